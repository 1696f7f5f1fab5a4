/**
 * `npm run docs:config`: writes docs/reference/configuration.md from the services' env schemas and
 * the declared variables. A static test fails while the checked-in page differs from what this writes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_REFERENCE_PATH, renderConfigReference } from './config-docs/index.js';
import { REPO_ROOT } from './paths.js';

const target = path.join(REPO_ROOT, CONFIG_REFERENCE_PATH);
mkdirSync(path.dirname(target), { recursive: true });
writeFileSync(target, renderConfigReference(REPO_ROOT));
process.stdout.write(`wrote ${CONFIG_REFERENCE_PATH}\n`);
