export { ensureLlamaServer, ensureModel } from './binary.js';
export { LOCAL_MODEL_NAME, startLocalLlm, type LocalLlmOptions, type RunningLocalLlm } from './local-server.js';
export { plannerEnv } from './planner-env.js';
