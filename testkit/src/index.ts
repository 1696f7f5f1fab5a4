export { startSshFleet, type FleetHost, type FleetOptions, type SshFleet } from './ssh-fleet.js';
export type { FleetHostOptions } from './host-options.js';
export type { FleetClientKey } from './client-key.js';
export type { FleetHostKey } from './host-files.js';
