/**
 * The demo's fleets, shaped like the seeds (/work/shared/scenarios/seed-scenarios.json) but small:
 * 'CIS servers' (Windows, service stationcontroller, two hosts that deny the copy), 'Production Web'
 * (Linux web servers running nginx) and 'Data Processing' (Linux and Windows, service dataprocessor,
 * as the seed's mixed scenario has it). Host options are the testkit's (testkit/src/host-options.ts,
 * testkit/src/winrm/win-host-options.ts), passed to the fleet CLIs as JSON.
 */

export const DEMO_TENANT = 'demo';
export const DEMO_USERS = [
  { username: 'demo-admin', role: 'admin' },
  { username: 'demo-approver', role: 'approver' },
] as const;

export const STATION_EXE = 'C:\\Program Files\\StationController\\stationcontroller.exe';
const STATION_DIR = 'C:\\Program Files\\StationController';
/** The sample artifact's path inside the executor's artifact folder: the file-copy step's source. */
export const SAMPLE_ARTIFACT = 'stationcontroller/2.0/stationcontroller.exe';

/**
 * The Windows fleet's first address, 127.0.0.240 on: clear of the SSH fleet (127.0.0.2 up) and of
 * the test suite's WinRM fleets (127.0.0.30 to 127.0.0.224). Its ports are ephemeral, so even an
 * address shared with another fleet would not collide.
 */
export const WINRM_FIRST_OCTET = 240;

export interface DemoHost {
  /** The inventory name (the fleet's own names are fleet-NN / win-NN). */
  name: string;
  groups: string[];
  /** The testkit's options for this host. */
  options: Record<string, unknown>;
}

const range = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(2, '0')}`);

/** SSH fleet hosts, in fleet order (127.0.0.2 on). */
export const LINUX_HOSTS: DemoHost[] = [
  ...range('web-server', 3).map((name) => ({
    name,
    groups: ['Production Web'],
    options: {
      services: { nginx: 'active' },
      packages: { nginx: { installed: '1.22.1-9', available: '1.24.0-1' } },
      files: { '/etc/nginx/nginx.conf': `# ${name}\nworker_processes auto;\n` },
    },
  })),
  ...range('data-lnx', 2).map((name) => ({
    name,
    groups: ['Data Processing'],
    options: { services: { dataprocessor: 'active' } },
  })),
];

/** The two CIS servers whose program folder refuses writes: their copy fails and they are rolled back. */
export const DENY_COPY = ['cis-02', 'cis-05'];
/** A CIS server whose service is already stopped: the plan stops it only where it runs. */
export const ALREADY_STOPPED = 'cis-04';

/**
 * A Windows host of the seed's mixed scenario ('Data Processing'): service dataprocessor running.
 * The testkit's WinHostOptions; the demo and the tests that play that scenario share it.
 */
export const dataprocessorWindowsHost = () => ({
  services: [
    {
      name: 'dataprocessor',
      image: 'dataprocessor.exe',
      path: 'C:\\DataProcessor\\dataprocessor.exe',
      status: 'Running' as const,
      stopDelayMs: 300,
    },
  ],
});

/** WinRM fleet hosts, in fleet order (127.0.0.240 on). */
export const WINDOWS_HOSTS: DemoHost[] = [
  // Twelve: the two that fail are within the plan's default 20% failure budget, so the job goes on
  // past them as the seed's run does (2 of 25) instead of stopping to ask.
  ...range('cis', 12).map((name) => ({
    name,
    groups: ['CIS servers'],
    options: {
      services: [
        {
          name: 'stationcontroller',
          image: 'stationcontroller.exe',
          path: STATION_EXE,
          status: name === ALREADY_STOPPED ? 'Stopped' : 'Running',
          startDelayMs: 300,
          stopDelayMs: 500,
        },
      ],
      files: { [STATION_EXE]: 'stationcontroller 1.0 (build 118)\n' },
      ...(DENY_COPY.includes(name) && { denyWrite: [STATION_DIR] }),
    },
  })),
  ...range('data-win', 2).map((name) => ({
    name,
    groups: ['Data Processing'],
    options: dataprocessorWindowsHost(),
  })),
];

export const GROUPS: { name: string; description: string }[] = [
  { name: 'CIS servers', description: 'Demo: Windows servers running stationcontroller (two deny the copy)' },
  { name: 'Production Web', description: 'Demo: Linux web servers running nginx' },
  { name: 'Data Processing', description: 'Demo: Linux and Windows servers running dataprocessor' },
];

/** The seed requests as the demo's user types them, and what the chat then asks for. */
export const SEED_REQUESTS: { request: string; fill?: string }[] = [
  {
    request: `Connect to ${WINDOWS_HOSTS.filter((h) => h.groups.includes('CIS servers')).length} Windows systems in group 'CIS servers', check if stationcontroller.exe is running, stop the service, copy new file, restart service, verify startup, log results`,
    fill: `The plan asks what to copy where: source ${SAMPLE_ARTIFACT}, destination ${STATION_EXE}`,
  },
  { request: "Update nginx to latest version on all web servers in 'Production Web' group and restart service" },
  { request: "Stop 'dataprocessor' service on all servers in 'Data Processing' group" },
];
