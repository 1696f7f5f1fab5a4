export { startService, waitForHttpOk, type ServiceProcess, type StartServiceOptions } from './service-process.js';
export { EXECUTOR_MAIN, ORCHESTRATOR_MAIN, REPO_ROOT, WEB_DIR } from './paths.js';
export { prepareDatabase } from './prepare-database.js';
export { ensureVaultKeyFile } from './vault-key.js';
export { ensureTriggerKeyFile } from './trigger-key.js';
export { startWeb, type StartWebOptions } from './web-process.js';
export { platformEgressDeny, type PlatformServices } from './platform-deny.js';
export { superviseService, type Supervisor, type SuperviseOptions } from './supervise-service.js';
export {
  RestartPolicy,
  DEFAULT_RESTART_POLICY,
  type RestartPolicyOptions,
  type RestartDecision,
} from './restart-policy.js';
export { apiDocs } from './api-docs.js';
export {
  ALREADY_STOPPED,
  dataprocessorWindowsHost,
  DEMO_TENANT,
  DEMO_USERS,
  DENY_COPY,
  LINUX_HOSTS,
  SAMPLE_ARTIFACT,
  SEED_REQUESTS,
  STATION_EXE,
  WINDOWS_HOSTS,
  type DemoHost,
} from './demo/seed-shape.js';
export { sampleArtifactContent } from './demo/artifact.js';
