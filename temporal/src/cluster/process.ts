import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import net from 'node:net';

/** A child process the cluster started, stopped by its PID. */
export interface ClusterProcess {
  name: string;
  pid: number;
  child: ChildProcess;
  /** Resolves when the process has exited (whatever the cause). */
  exited: Promise<void>;
  running(): boolean;
  /** Sends `signal` and waits until the process is gone; SIGKILL after `graceMs` if it lingers. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const tryPort = (port: number): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port')),
      );
    });
  });

/** A TCP port free on 127.0.0.1 now (the OS picks it). */
export const freePort = (): Promise<number> => tryPort(0);

/**
 * A free port below 32768, outside Linux's ephemeral range: Temporal keeps membership ports in a
 * PostgreSQL smallint column (cluster_membership.rpc_port), which the OS's picks overflow. Not
 * telemetry's `freeServicePort`: that one is below the ephemeral range, which on some machines
 * starts above 32768.
 */
export const freeLowPort = async (): Promise<number> => {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const got = await tryPort(port).catch(() => undefined);
    if (got) return got;
  }
  throw new Error('no free port below 32768');
};

/**
 * Starts `binary args` with its output appended to `logFile`, in its own process group, and never
 * outliving this process (a synchronous SIGKILL by PID on exit).
 */
export const spawnLogged = (
  name: string,
  binary: string,
  args: string[],
  logFile: string,
  env: Record<string, string> = {},
): ClusterProcess => {
  const log = openSync(logFile, 'a');
  const child = spawn(binary, args, {
    stdio: ['ignore', log, log],
    detached: true,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...env },
  });
  closeSync(log);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name}: ${binary} did not start`);
  const guard = () => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  process.once('exit', guard);
  const running = () => child.exitCode === null && child.signalCode === null;
  const exited = new Promise<void>((resolve) => {
    if (!running()) resolve();
    else child.once('exit', () => resolve());
  }).then(() => {
    process.removeListener('exit', guard);
  });
  return {
    name,
    pid,
    child,
    exited,
    running,
    async stop(signal = 'SIGTERM', graceMs = 15_000) {
      if (!running()) return;
      process.kill(pid, signal);
      const timer = setTimeout(() => running() && process.kill(pid, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
};

/** Runs a short command to its end; rejects with its output when it fails. */
export const runTool = (binary: string, args: string[], env: Record<string, string> = {}): Promise<string> =>
  new Promise((resolve, reject) => {
    execFile(
      binary,
      args,
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, timeout: 120_000, maxBuffer: 8 << 20 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${binary} ${args.join(' ')}: ${err.message}\n${stdout}${stderr}`));
        else resolve(`${stdout}${stderr}`);
      },
    );
  });

/**
 * Polls `probe` until it returns a value (not undefined), or throws once `timeoutMs` has passed
 * (with the last error), or as soon as `alive()` says the process being waited for has died.
 */
export const waitFor = async <T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  alive: () => boolean = () => true,
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  let last = 'not yet';
  for (;;) {
    if (!alive()) throw new Error(`${what}: the process exited`);
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${timeoutMs} ms (${last})`);
    await sleep(250);
  }
};

/** One request on HAProxy's stats socket, the answer as text. */
export const haproxyCommand = (socket: string, command: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const conn = net.connect(socket, () => conn.end(`${command}\n`));
    conn.on('data', (c: Buffer) => chunks.push(c));
    conn.on('error', reject);
    conn.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });

export interface BalancerServer {
  /** UP, DOWN, MAINT, … as HAProxy's health checks see the frontend. */
  status: string;
  /** Connections open through the balancer to this frontend now. */
  sessions: number;
}

/** The balancer's view of its frontends (`show stat`), by server name. */
export const balancerStats = async (socket: string): Promise<Record<string, BalancerServer>> => {
  const text = await haproxyCommand(socket, 'show stat');
  const [header, ...rows] = text.trim().split('\n');
  const columns = (header ?? '').replace(/^# /, '').split(',');
  const at = (name: string) => columns.indexOf(name);
  const result: Record<string, BalancerServer> = {};
  for (const row of rows) {
    const cells = row.split(',');
    if (cells[at('pxname')] !== 'frontends' || ['FRONTEND', 'BACKEND'].includes(cells[at('svname')] ?? '')) continue;
    result[cells[at('svname')] ?? ''] = {
      status: (cells[at('status')] ?? '').split(' ')[0] ?? '',
      sessions: Number(cells[at('scur')] ?? 0),
    };
  }
  return result;
};
