import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DATA_DIR, SSH_FLEET_CLI, WINRM_FLEET_CLI } from '../paths.js';
import { startService, type ServiceProcess } from '../service-process.js';
import { LINUX_HOSTS, WINDOWS_HOSTS, WINRM_FIRST_OCTET } from './seed-shape.js';

/** One host as its fleet CLI announced it (the password stays in memory: it goes to the vault only). */
export interface LinuxFleetHost {
  address: string;
  port: number;
  username: string;
  password: string;
}
export interface WindowsFleetHost {
  address: string;
  httpPort: number;
  /** The computer name, also the NTLM domain of its local account. */
  hostname: string;
  username: string;
  password: string;
}

export interface DemoFleets {
  linux: LinuxFleetHost[];
  windows: WindowsFleetHost[];
  /** The client key every Linux host accepts (PEM), from the file the SSH fleet wrote. */
  clientKeyFile: string;
  /** The Windows hosts' state, kept up to date by their fleet (a simulated host has no console). */
  windowsStateFile: string;
  pids: number[];
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 180_000;

interface Launched {
  service: ServiceProcess;
  /** The host lines, once the fleet printed its closing line. */
  ready: Promise<{ hosts: Record<string, unknown>[]; last: Record<string, unknown> }>;
}

/**
 * Runs a fleet CLI. Its stdout is JSON with passwords: parsed here, never echoed; its stderr is
 * progress and goes to `say`. The line that is not a host (no `address`) closes the list.
 */
const launch = (name: string, script: string, args: string[], say: (line: string) => void): Launched => {
  const hosts: Record<string, unknown>[] = [];
  let resolve!: (v: { hosts: Record<string, unknown>[]; last: Record<string, unknown> }) => void;
  let reject!: (err: Error) => void;
  const ready = new Promise<{ hosts: Record<string, unknown>[]; last: Record<string, unknown> }>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const service = startService({
    name,
    script,
    args,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' },
    exitSignal: 'SIGTERM',
    onLine: (line, stream) => {
      if (stream === 'stderr') return say(`[${name}] ${line}`);
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return say(`[${name}] unexpected output (${line.length} characters, not shown)`);
      }
      if (typeof parsed.address === 'string') hosts.push(parsed);
      else resolve({ hosts, last: parsed });
    },
  });
  const timer = setTimeout(
    () => reject(new Error(`${name} not up after ${START_TIMEOUT_MS / 1000} s`)),
    START_TIMEOUT_MS,
  );
  void service.exited.then(({ code, signal }) =>
    reject(new Error(`${name} exited (${signal ?? `code ${code}`}) before its hosts were up; its lines above say why`)),
  );
  void ready.finally(() => clearTimeout(timer)).catch(() => undefined);
  return { service, ready };
};

/**
 * Starts the demo's SSH fleet (real sshd hosts; needs root, one SSH fleet per machine) and WinRM
 * fleet (simulated Windows hosts behind real WS-Management endpoints) as child processes, shaped
 * by seed-shape.ts. `stop()` ends both by PID (SIGTERM: each stops its own hosts).
 */
export const startDemoFleets = async (
  dir: string,
  say: (line: string) => void,
  /** Gets `stop` as soon as the fleets are launched, so a Ctrl-C while they start stops them too. */
  track: (stop: () => Promise<void>) => void,
): Promise<DemoFleets> => {
  const sshSpec = path.join(dir, 'ssh-hosts.json');
  const winrmSpec = path.join(dir, 'winrm-hosts.json');
  const clientKeyFile = path.join(dir, 'ssh-client-key');
  const windowsStateFile = path.join(dir, 'windows-state.json');
  await writeFile(
    sshSpec,
    JSON.stringify(
      LINUX_HOSTS.map((h) => h.options),
      null,
      2,
    ),
  );
  await writeFile(
    winrmSpec,
    JSON.stringify(
      WINDOWS_HOSTS.map((h) => h.options),
      null,
      2,
    ),
  );
  const ssh = launch(
    'ssh-fleet',
    SSH_FLEET_CLI,
    ['--hosts', sshSpec, '--key-out', clientKeyFile, '--log-dir', path.join(DATA_DIR, 'logs', 'demo-ssh-fleet')],
    say,
  );
  const winrm = launch(
    'winrm-fleet',
    WINRM_FLEET_CLI,
    [
      ...['--hosts', winrmSpec, '--first-octet', String(WINRM_FIRST_OCTET)],
      ...['--http-port', '0', '--https-port', '0', '--state-file', windowsStateFile],
    ],
    say,
  );
  const stop = async () => {
    await Promise.all([ssh.service.stop(30_000), winrm.service.stop(30_000)]);
  };
  track(stop);
  try {
    const [linux, windows] = await Promise.all([ssh.ready, winrm.ready]);
    return {
      linux: linux.hosts as unknown as LinuxFleetHost[],
      windows: windows.hosts as unknown as WindowsFleetHost[],
      clientKeyFile,
      windowsStateFile,
      pids: [ssh.service.pid, winrm.service.pid],
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
};
