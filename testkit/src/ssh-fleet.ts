import { randomBytes, randomInt } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { createClientKey, type FleetClientKey } from './client-key.js';
import {
  acquireLock,
  checkMachine,
  ensureAccounts,
  ensureMachineDirs,
  installSudoers,
  releaseLockSync,
  removeSudoersSync,
  setPasswords,
} from './fleet-system.js';
import { bootIdFile, generateHostKey, prepareHost, writeSshdConfig, type FleetHostKey } from './host-files.js';
import { watchPower, type PowerWatch } from './fleet-power.js';
import { resolveHostOptions, type FleetHostOptions, type ResolvedHostOptions } from './host-options.js';
import { hostName, planHost, type HostPlan } from './host-plan.js';
import { findListeners, killHost, killSessions, launchHost, waitForHost, type HostProcess } from './host-process.js';
import { mapLimit } from './run.js';
import { sshExec } from './ssh-exec.js';

export interface FleetOptions {
  /** 1..250 hosts, on 127.0.0.2 .. 127.0.0.(size+1). */
  size: number;
  /** One port for every host; default: a free port found by probing (listen on each address). */
  port?: number;
  /** sshd MaxStartups, default '100:30:200'. */
  maxStartups?: string;
  /** sshd MaxSessions, default 10. */
  maxSessions?: number;
  /** Options of the host at `index` (0-based). */
  host?: (index: number) => FleetHostOptions;
  /** Where each host's sshd log (`<name>.log`) goes; default `<tmpdir>/opsc-ssh-fleet-logs`, emptied at each start. */
  logDir?: string;
}

export interface FleetHost {
  index: number;
  /** `fleet-01`, `fleet-02`, ... (three digits when the fleet has more than 99 hosts). */
  name: string;
  address: string;
  port: number;
  username: string;
  /** Random, per host. */
  password: string;
  home: string;
  hostKey: FleetHostKey;
  /** PID of the process started for this host (unshare); killing it stops the host. */
  pid: number;
  options: ResolvedHostOptions;
}

export interface SshFleet {
  hosts: FleetHost[];
  /** The client key authorised on every host: OpenSSH private key PEM (unencrypted) and a copy encrypted with `passphrase`. */
  clientKey: FleetClientKey;
  /** Stops the host's sshd and everything running "on" it. */
  stopHost(index: number): Promise<void>;
  /** (Re)starts a host; newHostKey: true generates a different host key (updates hosts[index].hostKey). State/files are kept. */
  startHost(index: number, opts?: { newHostKey?: boolean }): Promise<void>;
  /**
   * Kills the per-connection sshd processes of the host (not the listener): established connections
   * drop, new ones work. Returns how many processes were killed (an authenticated connection has two:
   * the privileged monitor and the user's sshd).
   */
  killSessions(index: number): Promise<number>;
  /**
   * A file of the host's private filesystem (under /opt, /tmp, /var/lib/opsconductor, ...), read from
   * the machine, so it works while the host is down; null when it does not exist.
   */
  readHostFile(index: number, hostPath: string): Promise<string | null>;
  /**
   * The host's change journal: one entry per real service transition made by the shims, oldest first
   * (`boot-start` when the host's boot started it). Chaos tests count them to prove no change ran twice.
   */
  readJournal(index: number): Promise<FleetJournalEntry[]>;
  /** Runs a shell script as the host's user on that host, through its real sshd (the `ssh` client); for test assertions. */
  exec(index: number, script: string): Promise<{ code: number; stdout: string; stderr: string }>;
  /** The boot id the host shows in /proc/sys/kernel/random/boot_id (its next one while it reboots). */
  bootId(index: number): Promise<string>;
  /** Whether the host's namespace (its sshd) runs: false once it powered off, or while it reboots. */
  isUp(index: number): boolean;
  /** With true, the host's next reboots take it down and leave it down (a host that never comes back). */
  holdDownOnReboot(index: number, hold: boolean): void;
  /** Stops everything by PID and removes the sudoers file; the users stay for the next fleet. */
  stop(): Promise<void>;
}

export interface FleetJournalEntry {
  time: number;
  /** `reboot` / `poweroff`: the host asked to be rebooted or powered off; `refused`: the guard over a machine command answered. */
  action: 'start' | 'stop' | 'boot-start' | 'reboot' | 'poweroff' | 'refused';
  unit: string;
}

const DEFAULT_LOG_DIR = path.join(tmpdir(), 'opsc-ssh-fleet-logs');
/** How long to wait for another process' fleet to stop before giving up. */
const LOCK_WAIT_MS = 120_000;
/** How long a host may take from spawn to accepting connections; generous for 250 hosts on two cores. */
const HOST_START_TIMEOUT_MS = 30_000;
// Host start-up is mostly waiting on small processes (ssh-keygen, sshd -t, unshare), so more in
// flight than cores.
const START_CONCURRENCY = Math.max(8, availableParallelism() * 4);

const canListen = (host: string, port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });

/** A port free on every address, below the kernel's ephemeral range so outgoing connections never take it. */
const findFreePort = async (addresses: readonly string[]): Promise<number> => {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + randomInt(12_000);
    if ((await Promise.all(addresses.map((address) => canListen(address, port)))).every(Boolean)) return port;
  }
  throw new Error(`no port in 20000-31999 is free on all of ${addresses[0]} .. ${addresses.at(-1)}`);
};

const checkOptions = (options: FleetOptions): void => {
  if (!Number.isInteger(options.size) || options.size < 1 || options.size > 250)
    throw new Error(`size must be an integer from 1 to 250 (got ${options.size})`);
  if (options.port !== undefined && (!Number.isInteger(options.port) || options.port < 1 || options.port > 65_535))
    throw new Error(`port must be 1..65535 (got ${options.port})`);
  if (options.maxStartups !== undefined && !/^\d+(:\d+:\d+)?$/.test(options.maxStartups))
    throw new Error(`maxStartups must look like '10' or '10:30:100' (got ${options.maxStartups})`);
  if (options.maxSessions !== undefined && (!Number.isInteger(options.maxSessions) || options.maxSessions < 0))
    throw new Error(`maxSessions must be a non-negative integer (got ${options.maxSessions})`);
};

/**
 * Starts `size` real OpenSSH servers, each in its own mount and PID namespace with its own user, host
 * key, private directories and emulated services and packages (shims/). Needs root; one fleet at a time.
 */
export const startSshFleet = async (options: FleetOptions): Promise<SshFleet> => {
  checkOptions(options);
  checkMachine();
  // Every option is checked before the machine is touched.
  const resolved = Array.from({ length: options.size }, (_, index) =>
    resolveHostOptions(hostName(index, options.size), options.host?.(index) ?? {}),
  );
  await ensureMachineDirs();
  await acquireLock(LOCK_WAIT_MS);

  const processes: (HostProcess | undefined)[] = [];
  const killAllSync = (): void => {
    for (const host of processes) {
      if (!host?.running()) continue;
      for (const pid of [host.listenerPid, host.pid]) {
        try {
          if (pid !== undefined) process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }
    removeSudoersSync();
    releaseLockSync();
  };
  process.on('exit', killAllSync);
  const stopAll = async (): Promise<void> => {
    try {
      await Promise.all(processes.map((host) => host && killHost(host)));
    } finally {
      removeSudoersSync();
      releaseLockSync();
      process.off('exit', killAllSync);
    }
  };

  try {
    const port = options.port ?? (await findFreePort(resolved.map((_, index) => `127.0.0.${index + 2}`)));
    // The default keeps the last fleet's logs (one fleet at a time), so runs do not pile up in /tmp.
    const logDir = options.logDir ?? DEFAULT_LOG_DIR;
    if (!options.logDir) await rm(logDir, { recursive: true, force: true });
    await mkdir(logDir, { recursive: true });
    const plans: HostPlan[] = resolved.map(({ options: hostOptions, files }, index) =>
      planHost({
        index,
        size: options.size,
        port,
        logDir,
        maxStartups: options.maxStartups ?? '100:30:200',
        maxSessions: options.maxSessions ?? 10,
        options: hostOptions,
        files,
      }),
    );
    const passwords = plans.map((plan) => ({ name: plan.user, password: randomBytes(15).toString('base64url') }));
    const [accounts, client] = await Promise.all([
      ensureAccounts(plans.map(({ user, home }) => ({ name: user, home }))),
      createClientKey(),
    ]);
    await setPasswords(passwords);
    await installSudoers(plans);

    const hostKeys: FleetHostKey[] = [];
    await mapLimit(plans, START_CONCURRENCY, async (plan) => {
      await prepareHost(plan, accounts, client.key.publicKey);
      hostKeys[plan.index] = await generateHostKey(plan);
      await writeSshdConfig(plan);
      const host = await launchHost(plan);
      processes[plan.index] = host;
      await waitForHost(plan, host, HOST_START_TIMEOUT_MS);
    });
    await findListeners(processes as HostProcess[]);

    const hosts: FleetHost[] = plans.map((plan) => ({
      index: plan.index,
      name: plan.name,
      address: plan.address,
      port: plan.port,
      username: plan.user,
      password: passwords[plan.index]?.password ?? '',
      home: plan.home,
      hostKey: hostKeys[plan.index] as FleetHostKey,
      pid: (processes[plan.index] as HostProcess).pid,
      options: plan.options,
    }));
    return createFleet({ plans, hosts, processes, client, stopAll });
  } catch (err) {
    await stopAll();
    throw err;
  }
};

interface FleetParts {
  plans: HostPlan[];
  hosts: FleetHost[];
  processes: (HostProcess | undefined)[];
  client: Awaited<ReturnType<typeof createClientKey>>;
  stopAll: () => Promise<void>;
}

const createFleet = ({ plans, hosts, processes, client, stopAll }: FleetParts): SshFleet => {
  let stopping: Promise<void> | undefined;
  const at = (index: number): { plan: HostPlan; host: FleetHost } => {
    if (stopping) throw new Error('the SSH fleet has been stopped');
    const plan = plans[index];
    const host = hosts[index];
    if (!plan || !host) throw new Error(`no fleet host with index ${index} (the fleet has ${hosts.length})`);
    return { plan, host };
  };
  const stopHost = async (index: number): Promise<void> => {
    at(index);
    const running = processes[index];
    if (running) await killHost(running);
  };
  // Called from the watcher's timer only, once `fleet` exists.
  const power: PowerWatch = watchPower(
    plans,
    { stopHost: (i) => fleet.stopHost(i), startHost: (i) => fleet.startHost(i) },
    (line) => process.stderr.write(`ssh fleet: ${line}\n`),
  );
  const fleet: SshFleet = {
    hosts,
    clientKey: client.key,
    stopHost,
    startHost: async (index, opts) => {
      const { plan, host } = at(index);
      await stopHost(index);
      if (opts?.newHostKey) {
        host.hostKey = await generateHostKey(plan);
      }
      const started = await launchHost(plan);
      processes[index] = started;
      host.pid = started.pid;
      try {
        await waitForHost(plan, started, HOST_START_TIMEOUT_MS);
        await findListeners([started]);
      } catch (err) {
        await killHost(started);
        throw err;
      }
    },
    killSessions: async (index) => {
      at(index);
      const running = processes[index];
      return running ? killSessions(running) : 0;
    },
    readHostFile: async (index, hostPath) => {
      const { plan } = at(index);
      return readFile(
        path.join(plan.dir, resolveHostOptions(plan.name, { files: { [hostPath]: '' } }).files[0]!.dataPath),
        'utf8',
      ).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return null;
        throw err;
      });
    },
    readJournal: async (index) => {
      const text = await readFile(path.join(at(index).plan.dir, 'state', 'journal'), 'utf8').catch(() => '');
      return text
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const [time, action, unit] = line.split(' ');
          return { time: Number(time), action: action as FleetJournalEntry['action'], unit: unit ?? '' };
        });
    },
    exec: async (index, script) => sshExec(at(index).host, client.files, script),
    bootId: async (index) => (await readFile(bootIdFile(at(index).plan.dir), 'utf8')).trim(),
    isUp: (index) => (at(index), processes[index]?.running() ?? false),
    holdDownOnReboot: (index, hold) => (at(index), power.holdDown(index, hold)),
    stop: () =>
      (stopping ??= (async () => {
        await power.stop();
        await stopAll();
      })()),
  };
  return fleet;
};
