import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';
import { connect } from 'node:net';
import { APT_WHITEOUTS, FLEET_GROUP, FLEET_ROOT_USER, HOST_PATH, PRIVATE_MOUNTS, SELF_MOUNT } from './paths.js';
import { bootIdFile } from './host-files.js';
import { childrenOf, descendantsOf, listProcesses, waitUntilGone } from './proc.js';
import { sleep } from './run.js';
import type { HostPlan } from './host-plan.js';

/** A running host: `unshare`, whose child (PID 1 of the host's PID namespace) is the host's sshd. */
export interface HostProcess {
  pid: number;
  /** The listening sshd, as the machine sees it; known once the port answers. */
  listenerPid: number | undefined;
  exited: Promise<void>;
  running(): boolean;
}

/** The machine's programs that could reboot or power it off; each is hidden behind shims/power-guard in a host. */
export const MACHINE_POWER_COMMANDS = [
  '/usr/bin/systemctl',
  '/usr/bin/systemd-run',
  '/usr/sbin/shutdown',
  '/usr/sbin/reboot',
  '/usr/sbin/poweroff',
  '/usr/sbin/halt',
  '/usr/sbin/telinit',
  '/sbin/shutdown',
  '/sbin/reboot',
  '/sbin/poweroff',
  '/sbin/halt',
  '/bin/systemctl',
];

const quote = (value: string): string => `'${value.replaceAll("'", `'\\''`)}'`;

/** Runs as PID 1 of the host's namespaces: private mounts, services that boot enabled, then sshd. */
export const bootScript = (plan: HostPlan): string =>
  [
    'set -e',
    'cd /',
    ...Object.entries(PRIVATE_MOUNTS).map(
      ([mountPoint, sub]) => `mount --bind ${quote(`${plan.dir}/${sub}`)} ${quote(mountPoint)}`,
    ),
    `mount --bind ${quote(plan.dir)} ${quote(SELF_MOUNT)}`,
    // The host's own boot id (a new one at each emulated reboot, fleet-power.ts), where the kernel's is read.
    `mount --bind ${quote(bootIdFile(plan.dir))} /proc/sys/kernel/random/boot_id`,
    // A dnf or yum host has no apt: whiteouts over /usr/bin hide Debian's package tools, so a probe
    // such as `command -v apt-get` answers as it would there.
    ...(plan.options.packageManager === 'apt'
      ? []
      : [`mount -t overlay overlay -o ${quote(`lowerdir=${APT_WHITEOUTS}:/usr/bin`)} /usr/bin`]),
    // The machine's own power commands are out of reach: the guard is bound over each (after the
    // overlay above, which would otherwise show the real ones again). The shims on PATH stand in.
    `for f in ${MACHINE_POWER_COMMANDS.join(' ')}; do if [ -e "$f" ]; then mount --bind ${quote(`${plan.dir}/lib/power-guard`)} "$f"; fi; done`,
    // Services run as what sudo runs as, so `sudo systemctl stop` can stop them.
    `env -i PATH=${HOST_PATH} setpriv --reuid=${FLEET_ROOT_USER} --regid=${FLEET_GROUP} --init-groups /bin/bash -c '. ${SELF_MOUNT}/lib/fleet-common.sh && fleet_boot'`,
    `exec /usr/sbin/sshd -D -e -f ${quote(plan.configFile)}`,
  ].join('\n');

/**
 * Starts the host in its own mount and PID namespaces. setpriv's parent-death signal kills unshare
 * if the harness dies in any way, and --kill-child then takes the whole namespace along.
 */
export const launchHost = async (plan: HostPlan): Promise<HostProcess> => {
  // sshd logs to stderr (-e), handed over as a file opened here: a path would resolve inside the
  // host's private /tmp.
  const log = await open(plan.logFile, 'a');
  const unshareArgs = [
    '--mount',
    '--pid',
    '--fork',
    '--kill-child',
    '--mount-proc',
    '--propagation',
    'private',
    '--',
    '/bin/sh',
    '-c',
    bootScript(plan),
  ];
  // A missing program arrives as an 'error' event, not as an exception.
  const spawned = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'unshare', ...unshareArgs], {
    stdio: ['ignore', log.fd, log.fd],
  });
  await log.close();
  let ended = false;
  const exited = new Promise<void>((resolve) => {
    spawned.once('exit', () => {
      ended = true;
      resolve();
    });
    spawned.once('error', () => {
      ended = true;
      resolve();
    });
  });
  if (spawned.pid === undefined) {
    await exited;
    throw new Error(`${plan.name}: could not start setpriv/unshare (are util-linux's tools installed?)`);
  }
  return { pid: spawned.pid, listenerPid: undefined, exited, running: () => !ended };
};

const canConnect = (host: string, port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });

const logTail = async (file: string): Promise<string> => {
  try {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, 2_000);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      return buffer.toString('utf8').trim() || '(empty)';
    } finally {
      await handle.close();
    }
  } catch {
    return '(no log)';
  }
};

/** Polls until the host's port accepts connections. */
export const waitForHost = async (plan: HostPlan, host: HostProcess, timeoutMs: number): Promise<void> => {
  const where = `${plan.name} (${plan.address}:${plan.port})`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!host.running())
      throw new Error(
        `${where}: sshd ended before accepting connections; ${plan.logFile} ends with:\n${await logTail(plan.logFile)}`,
      );
    if (await canConnect(plan.address, plan.port)) break;
    if (Date.now() > deadline)
      throw new Error(
        `${where}: no connection accepted within ${timeoutMs} ms; ${plan.logFile} ends with:\n${await logTail(plan.logFile)}`,
      );
    await sleep(20);
  }
};

/** Notes each host's listener PID, with one scan of /proc for all of them. */
export const findListeners = async (hosts: readonly HostProcess[]): Promise<void> => {
  const processes = await listProcesses();
  for (const host of hosts) host.listenerPid = childrenOf(processes, host.pid)[0]?.pid;
};

/**
 * Kills the host by PID. The listener (PID 1 of the namespace) goes first, so the kernel ends every
 * process in the namespace and unshare reaps it and exits; unshare itself is killed only when the
 * listener is unknown or unshare lingers (--kill-child then takes the namespace along).
 */
export const killHost = async (host: HostProcess): Promise<void> => {
  const kill = (pid: number): void => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  if (host.running()) {
    if (host.listenerPid === undefined) kill(host.pid);
    else kill(host.listenerPid);
  }
  const timer = setTimeout(() => kill(host.pid), 5_000);
  await host.exited;
  clearTimeout(timer);
  const listener = host.listenerPid;
  // Forgotten once gone: a later call must not wait on a PID the kernel has handed to someone else.
  host.listenerPid = undefined;
  if (listener !== undefined && !(await waitUntilGone(listener, 10_000))) {
    throw new Error(`the sshd listener (PID ${listener}) outlived its host process ${host.pid}`);
  }
};

/** Kills the per-connection sshd processes under the listener; returns how many. */
export const killSessions = async (host: HostProcess): Promise<number> => {
  if (!host.running() || host.listenerPid === undefined) return 0;
  const victims = descendantsOf(await listProcesses(), host.listenerPid).filter((p) => p.comm === 'sshd');
  for (const victim of victims) {
    try {
      process.kill(victim.pid, 'SIGKILL');
    } catch {
      // Ended on its own meanwhile.
    }
  }
  return victims.length;
};
