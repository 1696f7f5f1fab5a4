import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { freeServicePort as freePort } from '@opsc/telemetry/metrics';
import { ensureNamespace, searchAttributeFlags } from './namespace.js';

export interface DevServerOptions {
  binary: string;
  /** SQLite file that makes workflows survive a restart. */
  dbFile: string;
  port: number;
  /** Web UI port; `null` runs headless. */
  uiPort: number | null;
  namespace: string;
  /** Server output goes here rather than to the terminal. */
  logFile: string;
  readyTimeoutMs?: number;
  /** Dynamic config values on top of DEV_SERVER_DYNAMIC_CONFIG (the same key replaces it). */
  dynamicConfig?: Readonly<Record<string, string | number | boolean>>;
}

/**
 * The dev server's dynamic config, tuned for one machine's dispatch latency (docs/benchmarks.md).
 * New activity and workflow tasks go to one partition of each task queue (the server's default is
 * four): a task then meets a waiting poll of any worker at once instead of waiting in a partition
 * no poll is on, to be forwarded at most 10 a second. Four partitions are still read, so tasks that
 * an older start left in the other three (an executor that was down) are still handed out.
 */
export const DEV_SERVER_DYNAMIC_CONFIG: Readonly<Record<string, string | number | boolean>> = {
  'matching.numTaskqueueWritePartitions': 1,
  'matching.numTaskqueueReadPartitions': 4,
  // Polls that land on a partition without tasks wait at the one that has them.
  'matching.forwarderMaxOutstandingPolls': 20,
  'matching.forwarderMaxRatePerSecond': 1000,
};

/** `--dynamic-config-value KEY=VALUE` flags; a value is JSON (a string quoted). */
export const dynamicConfigFlags = (values: Readonly<Record<string, string | number | boolean>>): string[] =>
  Object.entries(values).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${JSON.stringify(value)}`]);

export interface RunningDevServer {
  address: string;
  uiUrl: string | null;
  /**
   * The server's other HTTP ports on loopback: its HTTP API (the whole Temporal API, unauthenticated,
   * like the gRPC frontend) and its Prometheus metrics. Named, so that steps can be refused them.
   */
  httpPort: number;
  metricsPort: number;
  pid: number;
  /** SIGTERM, then SIGKILL after a grace period; resolves when the process is gone. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) => child.once('exit', () => r()));

/** Starts `temporal server start-dev` on a persistent SQLite file (WAL) and waits until it serves the namespace. */
export const startDevServer = async (options: DevServerOptions): Promise<RunningDevServer> => {
  mkdirSync(path.dirname(options.dbFile), { recursive: true });
  mkdirSync(path.dirname(options.logFile), { recursive: true });
  // Left to itself the server opens its HTTP API and metrics on random ports nobody knows of: chosen
  // here, they go into the executor's deny list with the frontend's.
  const httpPort = await freePort();
  const metricsPort = await freePort();
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--http-port',
    String(httpPort),
    '--metrics-port',
    String(metricsPort),
    '--db-filename',
    options.dbFile,
    '--namespace',
    options.namespace,
    '--sqlite-pragma',
    'journal_mode=wal',
    '--sqlite-pragma',
    'synchronous=normal',
    '--log-level',
    'warn',
    ...searchAttributeFlags().flatMap((flag) => ['--search-attribute', flag]),
    ...dynamicConfigFlags({ ...DEV_SERVER_DYNAMIC_CONFIG, ...options.dynamicConfig }),
    // Loopback only, the UI too (named, not inherited from --ip): in the embedded mode nothing but
    // this machine's own processes may reach Temporal, which takes any client it is sent.
    ...(options.uiPort === null ? ['--headless'] : ['--ui-ip', '127.0.0.1', '--ui-port', String(options.uiPort)]),
  ];
  const log = openSync(options.logFile, 'a');
  // Own process group (a terminal's Ctrl-C goes to the supervisor, which stops us last), and never
  // outliving the process that started it.
  const child = spawn(options.binary, args, { stdio: ['ignore', log, log], detached: true });
  const guard = () => child.kill('SIGKILL');
  process.once('exit', guard);
  child.once('exit', () => process.removeListener('exit', guard));
  const address = `127.0.0.1:${options.port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited(child);
    clearTimeout(timer);
  };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`temporal dev server exited with ${child.exitCode}; see ${options.logFile}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await ensureNamespace(connection, options.namespace, 15_000);
      } finally {
        await connection.close();
      }
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(
          `temporal dev server not ready on ${address}: ${(err as Error).message}; see ${options.logFile}`,
        );
      }
      await sleep(300);
    }
  }
  return {
    address,
    uiUrl: options.uiPort === null ? null : `http://127.0.0.1:${options.uiPort}`,
    httpPort,
    metricsPort,
    pid: child.pid ?? -1,
    stop,
  };
};
