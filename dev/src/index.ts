export { startService, waitForHttpOk, type ServiceProcess, type StartServiceOptions } from './service-process.js';
export { EXECUTOR_MAIN, ORCHESTRATOR_MAIN, REPO_ROOT } from './paths.js';
export { prepareDatabase } from './prepare-database.js';
export { ensureVaultKeyFile } from './vault-key.js';
