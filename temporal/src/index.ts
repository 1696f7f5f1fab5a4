export { ensureTemporalBinary, ensureTestServerBinary } from './binary.js';
export {
  DEV_SERVER_DYNAMIC_CONFIG,
  startDevServer,
  type DevServerOptions,
  type RunningDevServer,
} from './dev-server.js';
export { ensureNamespace, searchAttributeFlags } from './namespace.js';
