import { fileURLToPath } from 'node:url';

/** The repository root, from this compiled file's place in `dev/dist`. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const ORCHESTRATOR_MAIN = fileURLToPath(new URL('../../orchestrator/dist/main.js', import.meta.url));
export const EXECUTOR_MAIN = fileURLToPath(new URL('../../executor-worker/dist/main.js', import.meta.url));
