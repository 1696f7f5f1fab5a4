import { fileURLToPath } from 'node:url';

export { loadCatalog, parseToolFile, ToolCatalogError } from './load-catalog.js';
export { localProgramOf, ToolCatalog } from './tool-catalog.js';

/** The tools that ship with OpsConductor (`planning/tools/`). */
export const BUILTIN_TOOLS_DIR = fileURLToPath(new URL('../../tools/', import.meta.url));
