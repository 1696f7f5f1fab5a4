import { execFileSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { createKeyring, publishVaultKey } from '@opsc/activities/vault';
import { startEmbeddedPostgres } from '@opsc/database';
import {
  ensureVaultKeyFile,
  EXECUTOR_MAIN,
  ORCHESTRATOR_MAIN,
  prepareDatabase,
  REPO_ROOT,
  startService,
  waitForHttpOk,
  type ServiceProcess,
} from '@opsc/dev';
import { createUser, ensureTenant, issueApiToken } from '@opsc/orchestrator/identity';
import { ensureTemporalBinary, startDevServer } from '@opsc/temporal';
import { CLUSTER_SERVICES, startTemporalCluster } from '@opsc/temporal/cluster';

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/** The executor's and the orchestrator's settings a caller may pass through from the bench's own environment, for experiments. */
const EXECUTOR_KNOBS = /^(EXECUTOR_|SSH_)/;
const ORCHESTRATOR_KNOBS =
  /^ORCHESTRATOR_(WORKFLOW_TASK_POLLERS|MAX_CONCURRENT_|MAX_CACHED_WORKFLOWS|ACTIVITY_POLLERS)/;
const knobs = (pattern: RegExp): Record<string, string> =>
  Object.fromEntries(
    Object.entries(process.env).filter((e): e is [string, string] => pattern.test(e[0]) && e[1] !== undefined),
  );
/**
 * Dynamic config of the dev server on top of its defaults, for experiments:
 * `OPSC_BENCH_TEMPORAL_CONFIG='matching.numTaskqueueReadPartitions=1;matching.numTaskqueueWritePartitions=1'`.
 */
const devServerConfig = (): Record<string, string | number | boolean> =>
  Object.fromEntries(
    (process.env.OPSC_BENCH_TEMPORAL_CONFIG ?? '')
      .split(';')
      .filter((kv) => kv.includes('='))
      .map((kv) => {
        const [key, value] = [kv.slice(0, kv.indexOf('=')).trim(), kv.slice(kv.indexOf('=') + 1).trim()];
        return [
          key,
          /^-?\d+(\.\d+)?$/.test(value)
            ? Number(value)
            : value === 'true' || value === 'false'
              ? value === 'true'
              : value,
        ];
      }),
  );
/** A folder for CPU profiles of the orchestrator and executor processes (see `profiled`). */
const PROFILE_DIR = 'OPSC_BENCH_PROFILE_DIR';
const CPU_PROFILER = fileURLToPath(new URL('./cpu-profile.js', import.meta.url));
/** With OPSC_BENCH_PROFILE_DIR set, a service's main thread writes `<name>-<pid>.cpuprofile` there when it exits. */
const profiled = (name: string): Record<string, string> => {
  const dir = process.env[PROFILE_DIR];
  return dir
    ? { NODE_OPTIONS: `--import ${CPU_PROFILER}`, OPSC_CPU_PROFILE_DIR: dir, OPSC_CPU_PROFILE_NAME: name }
    : {};
};

export interface BenchStack {
  apiUrl: string;
  token: string;
  /** A second user with the approver role: the bench approves its own change plans as them (four-eyes). */
  approverToken: string;
  client: Client;
  executorUrl: string;
  /** The services' PIDs, for CPU accounting. */
  pids(): Record<string, number | undefined>;
  /** Calls the API as the bench's admin (or as `as`); throws on a status of 300 or more. */
  call<T = Record<string, unknown>>(p: string, body?: unknown, as?: string): Promise<T>;
  /** A fresh executor process: an empty SSH pool, as the other variants start without connections. */
  restartExecutor(): Promise<void>;
  stop(): Promise<void>;
}

interface BenchTemporal {
  address: string;
  pids(): Record<string, number | undefined>;
  stop(): Promise<void>;
}

const startDev = async (work: string, logDir: string): Promise<BenchTemporal> => {
  const server = await startDevServer({
    binary: ensureTemporalBinary(),
    dbFile: path.join(work, 'temporal.db'),
    port: await freePort(),
    uiPort: null,
    namespace: 'default',
    logFile: path.join(logDir, 'temporal.log'),
    dynamicConfig: devServerConfig(),
  });
  return { address: server.address, pids: () => ({ temporal: server.pid }), stop: () => server.stop() };
};

/** The real server as separate services behind HAProxy, on the bench's PostgreSQL (built once per machine). */
const startCluster = async (work: string, logDir: string, postgresUrl: string): Promise<BenchTemporal> => {
  const binDir = execFileSync('bash', [path.join(REPO_ROOT, 'temporal/bin/ensure-temporal-server.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  const cluster = await startTemporalCluster({ binDir, postgresUrl, dir: path.join(work, 'temporal'), logDir });
  return {
    address: cluster.address,
    pids: () => Object.fromEntries(CLUSTER_SERVICES.map((s) => [`temporal-${s}`, cluster.pid(s)])),
    stop: () => cluster.stop(),
  };
};

/**
 * The whole system as `npm run up` and the integration tests run it: a Temporal dev server, an
 * embedded PostgreSQL (migrated, the services on their own roles), the orchestrator and one
 * executor worker, each a real process on loopback. Everything is stopped by PID in `stop`.
 */
export const startBenchStack = async (
  work: string,
  options: {
    artifactDir: string;
    maxConcurrentActivities: number;
    /** `dev`: the Temporal dev server (one process, SQLite); `cluster`: docs/temporal-cluster.md's cluster on the PostgreSQL. */
    temporal?: 'dev' | 'cluster';
  },
): Promise<BenchStack> => {
  const logDir = path.join(work, 'logs');
  const stops: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s().catch(() => undefined);
  };
  try {
    const postgres = await startEmbeddedPostgres({
      dataDir: path.join(work, 'pg'),
      port: await freePort(),
      database: 'postgres',
    });
    stops.push(() => postgres.stop());
    const temporal =
      options.temporal === 'cluster' ? await startCluster(work, logDir, postgres.url) : await startDev(work, logDir);
    stops.push(() => temporal.stop());
    const roles = await prepareDatabase(postgres.url, path.join(work, 'roles.json'));
    const keyFile = ensureVaultKeyFile(path.join(work, 'vault'));
    const admin = new pg.Pool({ connectionString: postgres.url, max: 2 });
    stops.push(() => admin.end());
    const executorRole = new pg.Pool({ connectionString: roles.executor, max: 1 });
    await publishVaultKey(executorRole, createKeyring([await readFile(keyFile, 'utf8')]));
    await executorRole.end();
    const tenantId = await ensureTenant(admin, 'bench');
    const token = await issueApiToken(
      admin,
      await createUser(admin, { tenantId, username: 'bench-admin', role: 'admin' }),
      'bench',
    );
    const approverToken = await issueApiToken(
      admin,
      await createUser(admin, { tenantId, username: 'bench-approver', role: 'approver' }),
      'bench',
    );

    const connection = await Connection.connect({ address: temporal.address });
    stops.push(() => connection.close());
    const client = new Client({ connection, namespace: 'default' });
    const base = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: 'default',
      LOG_LEVEL: 'warn',
    };
    const spawn = (name: string, script: string, env: Record<string, string>): ServiceProcess => {
      const file = path.join(logDir, `${name}.log`);
      const service = startService({ name, script, env, onLine: (line) => appendFileSync(file, `${line}\n`) });
      stops.push(() => service.stop(10_000));
      return service;
    };

    const apiPort = await freePort();
    const orchestrator = spawn('orchestrator', ORCHESTRATOR_MAIN, {
      ...base,
      DATABASE_URL: roles.orchestrator,
      API_PORT: String(apiPort),
      // A free port of its own: a stack from `npm run up` may hold the default.
      ORCHESTRATOR_METRICS_PORT: String(await freePort()),
      ...knobs(ORCHESTRATOR_KNOBS),
      ...profiled('orchestrator'),
    });
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    await waitForHttpOk(`${apiUrl}/api/health`, 90_000, orchestrator);

    const healthPort = await freePort();
    const executorUrl = `http://127.0.0.1:${healthPort}`;
    let executor: ServiceProcess | undefined;
    const restartExecutor = async () => {
      await executor?.stop(10_000);
      executor = spawn('executor', EXECUTOR_MAIN, {
        ...base,
        DATABASE_URL: roles.executor,
        OPSC_VAULT_KEY_FILE: keyFile,
        EXECUTOR_HEALTH_PORT: String(healthPort),
        EXECUTOR_ARTIFACT_DIR: options.artifactDir,
        EXECUTOR_MAX_CONCURRENT_ACTIVITIES: String(options.maxConcurrentActivities),
        ...knobs(EXECUTOR_KNOBS),
        ...profiled('executor'),
      });
      await waitForHttpOk(`${executorUrl}/health`, 90_000, executor);
    };
    await restartExecutor();

    const call = async <T>(p: string, body?: unknown, as = token): Promise<T> => {
      const res = await fetch(`${apiUrl}${p}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${as}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(60_000),
      });
      const text = await res.text();
      if (res.status >= 300) throw new Error(`${p}: HTTP ${res.status} ${text.slice(0, 500)}`);
      return JSON.parse(text) as T;
    };
    const pids = () => ({ executor: executor?.pid, orchestrator: orchestrator.pid, ...temporal.pids() });
    return { apiUrl, token, approverToken, client, executorUrl, pids, call, restartExecutor, stop };
  } catch (err) {
    await stop();
    throw err;
  }
};
