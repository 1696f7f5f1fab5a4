export { ensureTemporalBinary, ensureTestServerBinary } from './binary.js';
export { startDevServer, type DevServerOptions, type RunningDevServer } from './dev-server.js';
export { ensureNamespace, searchAttributeFlags } from './namespace.js';
