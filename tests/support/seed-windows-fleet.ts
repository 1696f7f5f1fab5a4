import type { WinrmHarnessOptions } from './winrm-harness.js';

// The seed's Windows scenario's fleet (../shared/scenarios/seed-scenarios.json): 25 hosts in group
// 'CIS servers' running stationcontroller, one of them already stopped; two deny writes to the
// program folder, so their copy fails and they are rolled back.
export const SIZE = 25;
export const DENYING = new Set([7, 19]);
export const ALREADY_STOPPED = 3;
export const EXE = 'C:\\Program Files\\StationController\\stationcontroller.exe';
export const OLD_EXE = Buffer.from('stationcontroller 1.0 (build 118)\n');
export const REQUEST =
  "Connect to 25 Windows systems in group 'CIS servers', check if stationcontroller.exe is running, stop the service, copy new file, restart service, verify startup, log results";

/** The fleet's part of the WinRM harness's options. */
export const seedWindowsFleet = (): Pick<WinrmHarnessOptions, 'size' | 'firstOctet' | 'auth' | 'host' | 'groups'> => ({
  size: SIZE,
  firstOctet: 50,
  // Mostly NTLM over HTTP with sealed messages, as Windows fleets are configured by default; some over HTTPS.
  auth: (i) => (i % 5 === 4 ? 'ntlm-https' : 'ntlm'),
  host: (i) => ({
    services: [
      {
        name: 'stationcontroller',
        image: 'stationcontroller.exe',
        path: EXE,
        status: i === ALREADY_STOPPED ? 'Stopped' : 'Running',
        startDelayMs: 300,
        stopDelayMs: 500,
      },
    ],
    files: { [EXE]: OLD_EXE },
    ...(DENYING.has(i) && { denyWrite: ['C:\\Program Files\\StationController'] }),
  }),
  groups: { 'CIS servers': Array.from({ length: SIZE }, (_, i) => i) },
});
