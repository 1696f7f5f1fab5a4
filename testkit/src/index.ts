export {
  startSshFleet,
  type FleetHost,
  type FleetJournalEntry,
  type FleetOptions,
  type SshFleet,
} from './ssh-fleet.js';
export type { FleetHostOptions } from './host-options.js';
export type { FleetClientKey } from './client-key.js';
export type { FleetHostKey } from './host-files.js';
export { startWinrmFleet, type WinrmFleet, type WinrmFleetHost, type WinrmFleetOptions } from './winrm/winrm-fleet.js';
export type { WinEventOptions, WinHostOptions, WinServiceOptions } from './winrm/win-host-options.js';
export type { WinHost, ServiceView, WinProcess, WinChange } from './winrm/win-host.js';
export type { WinFileChange } from './winrm/win-files.js';
export type { EndpointStats } from './winrm/endpoint.js';
export type { CommandView } from './winrm/shells.js';
export type { HostExecResult } from './winrm/host-exec.js';
export { FaultCode } from './winrm/faults.js';
