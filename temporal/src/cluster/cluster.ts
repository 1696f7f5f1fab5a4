import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { ensureNamespace } from '../namespace.js';
import {
  CLUSTER_SERVICES,
  FRONTENDS,
  dynamicConfig,
  haproxyConfig,
  roleOf,
  serverConfig,
  type ClusterLayout,
  type ClusterService,
  type ServicePorts,
} from './config.js';
import {
  balancerStats,
  freeLowPort,
  freePort,
  runTool,
  spawnLogged,
  waitFor,
  type BalancerServer,
  type ClusterProcess,
} from './process.js';

export { CLUSTER_SERVICES, FRONTENDS, type ClusterService } from './config.js';
export type { BalancerServer } from './process.js';

export interface TemporalClusterOptions {
  /** The folder holding `temporal-server` and `temporal-sql-tool` (temporal/bin/ensure-temporal-server.sh). */
  binDir: string;
  /** A PostgreSQL superuser URL; the cluster's two databases are created through it. */
  postgresUrl: string;
  /** Where the configs and the balancer's stats socket go. */
  dir: string;
  /** One log file per process here. */
  logDir: string;
  /** HAProxy's binary (Debian's by default). */
  haproxy?: string;
  /** Registered once the cluster is up (with the platform's search attributes). */
  namespace?: string;
  /** Names of the two databases: `<prefix>` and `<prefix>_visibility`. */
  databasePrefix?: string;
  readyTimeoutMs?: number;
}

export interface RunningTemporalCluster {
  /** The load balancer in front of both frontends: the one address clients get. */
  address: string;
  /** Each frontend's own address (for checks; clients use `address`). */
  frontendAddresses: Record<(typeof FRONTENDS)[number], string>;
  ports: Record<ClusterService, ServicePorts>;
  /** The PID of a service's process, if it runs. */
  pid(service: ClusterService): number | undefined;
  /** Sends `signal` to a service's process (SIGTERM: an orderly stop) and waits until it has exited. */
  kill(service: ClusterService, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a stopped service again and waits until it serves (the same ports and config). */
  start(service: ClusterService): Promise<void>;
  /** Waits until every service runs and serves, and the namespace answers through the balancer. */
  waitReady(): Promise<void>;
  /** The balancer's view of the frontends: health-check status and open connections. */
  balancer(): Promise<Record<string, BalancerServer>>;
  /** Stops every process (frontends first, the balancer last). */
  stop(): Promise<void>;
}

// The gRPC health service names each role reports on its own port (the worker role has no gRPC server).
const HEALTH_SERVICE: Record<string, string> = {
  frontend: 'temporal.api.workflowservice.v1.WorkflowService',
  history: 'temporal.api.workflowservice.v1.HistoryService',
  matching: 'temporal.api.workflowservice.v1.MatchingService',
};
// grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING
const SERVING = 1;
// temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW
const WORKFLOW_TASK_QUEUE = 1;
// The worker role's per-namespace workers poll this queue in every namespace (primitives.PerNSWorkerTaskQueue).
const SYSTEM_QUEUE = 'temporal-sys-per-ns-tq';

const millis = (t: { seconds?: { toString(): string } | null; nanos?: number | null } | null | undefined) =>
  t ? Number(t.seconds?.toString() ?? 0) * 1000 + (t.nanos ?? 0) / 1e6 : 0;

/** Creates the two databases (if missing) and brings their schemas to the tool's latest version. */
const applySchemas = async (
  tool: string,
  postgres: { host: string; port: number; user: string; password: string },
  databases: { persistence: string; visibility: string },
) => {
  // The password goes in the environment, never on a command line other processes can read.
  const env = { SQL_PASSWORD: postgres.password };
  const base = ['--plugin', 'postgres12', '--ep', postgres.host, '-p', String(postgres.port), '-u', postgres.user];
  for (const [database, schema] of [
    [databases.persistence, 'postgresql/v12/temporal'],
    [databases.visibility, 'postgresql/v12/visibility'],
  ] as const) {
    await runTool(tool, [...base, '--db', database, 'create-database'], env).catch((err: Error) => {
      if (!/already exists/.test(err.message)) throw err;
    });
    await runTool(tool, [...base, '--db', database, 'setup-schema', '-v', '0.0'], env);
    await runTool(tool, [...base, '--db', database, 'update-schema', '--schema-name', schema], env);
  }
};

/**
 * Starts a Temporal cluster on loopback on the given PostgreSQL: schemas applied with
 * temporal-sql-tool, then history, matching, worker and two frontends as separate processes, and
 * HAProxy in front of the frontends. Resolves once every service serves and the namespace exists.
 */
export const startTemporalCluster = async (options: TemporalClusterOptions): Promise<RunningTemporalCluster> => {
  const timeoutMs = options.readyTimeoutMs ?? 120_000;
  const namespace = options.namespace ?? 'default';
  const prefix = options.databasePrefix ?? 'temporal';
  const pgUrl = new URL(options.postgresUrl);
  const postgres = {
    host: pgUrl.hostname,
    port: Number(pgUrl.port || 5432),
    user: decodeURIComponent(pgUrl.username),
    password: decodeURIComponent(pgUrl.password),
  };
  const databases = { persistence: prefix, visibility: `${prefix}_visibility` };
  mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  mkdirSync(options.logDir, { recursive: true });

  const ports = {} as Record<ClusterService, ServicePorts>;
  for (const service of CLUSTER_SERVICES) {
    ports[service] = {
      grpc: await freePort(),
      membership: await freeLowPort(),
      http: service.startsWith('frontend') ? await freePort() : 0,
      metrics: await freePort(),
    };
  }
  const layout: ClusterLayout = {
    postgres,
    databases,
    ports,
    balancerPort: await freePort(),
    numHistoryShards: 4,
    dynamicConfigFile: path.join(options.dir, 'dynamicconfig.yaml'),
  };
  const address = `127.0.0.1:${layout.balancerPort}`;
  // The configs hold the database password: readable by their owner only.
  writeFileSync(layout.dynamicConfigFile, JSON.stringify(dynamicConfig(), null, 2), { mode: 0o600 });
  for (const service of CLUSTER_SERVICES) {
    mkdirSync(path.join(options.dir, service), { recursive: true, mode: 0o700 });
    writeFileSync(
      path.join(options.dir, service, 'development.yaml'),
      JSON.stringify(serverConfig(layout, service), null, 2),
      { mode: 0o600 },
    );
  }
  const statsSocket = path.join(options.dir, 'haproxy.sock');
  const haproxyFile = path.join(options.dir, 'haproxy.cfg');
  writeFileSync(haproxyFile, haproxyConfig(layout, statsSocket), { mode: 0o600 });

  await applySchemas(path.join(options.binDir, 'temporal-sql-tool'), postgres, databases);

  const processes = new Map<ClusterService | 'balancer', ClusterProcess>();
  const startedAt = new Map<ClusterService, number>();
  const spawnService = (service: ClusterService) => {
    const proc = spawnLogged(
      service,
      path.join(options.binDir, 'temporal-server'),
      [
        '--root',
        options.dir,
        '--config',
        service,
        '--env',
        'development',
        '--allow-no-auth',
        'start',
        '--service',
        roleOf(service),
      ],
      path.join(options.logDir, `cluster-temporal-${service}.log`),
      { TEMPORAL_VERSION_CHECK_DISABLED: '1' },
    );
    processes.set(service, proc);
    startedAt.set(service, Date.now());
    return proc;
  };
  const alive = (service: ClusterService) => () => processes.get(service)?.running() ?? false;

  const healthy = async (service: ClusterService) => {
    const role = roleOf(service);
    if (role === 'worker') {
      // The worker role has joined the cluster and serves the namespace: its per-namespace worker polls.
      const connection = Connection.lazy({ address, connectTimeout: 2_000 });
      try {
        await waitFor(
          `temporal ${service}`,
          async () => {
            const { pollers } = await connection.workflowService.describeTaskQueue({
              namespace,
              taskQueue: { name: SYSTEM_QUEUE },
              taskQueueType: WORKFLOW_TASK_QUEUE,
            });
            const since = startedAt.get(service) ?? 0;
            return pollers?.some((p) => millis(p.lastAccessTime) >= since) ? true : undefined;
          },
          timeoutMs,
          alive(service),
        );
      } finally {
        await connection.close();
      }
      return;
    }
    const connection = Connection.lazy({ address: `127.0.0.1:${ports[service].grpc}`, connectTimeout: 2_000 });
    try {
      await waitFor(
        `temporal ${service}`,
        async () => {
          const { status } = await connection.healthService.check({ service: HEALTH_SERVICE[role] });
          return status === SERVING ? true : undefined;
        },
        timeoutMs,
        alive(service),
      );
    } finally {
      await connection.close();
    }
  };

  const balancerUp = (frontend: string) =>
    waitFor(
      `the balancer's check of ${frontend}`,
      async () => ((await balancerStats(statsSocket))[frontend]?.status === 'UP' ? true : undefined),
      timeoutMs,
    );

  const stopAll = async () => {
    for (const name of [...FRONTENDS, 'worker', 'matching', 'history', 'balancer'] as const) {
      await processes.get(name)?.stop('SIGTERM');
    }
  };

  try {
    // History first: it owns the shards the others ask for. Then the rest at once.
    spawnService('history');
    await healthy('history');
    for (const service of ['matching', ...FRONTENDS] as const) spawnService(service);
    await Promise.all((['matching', ...FRONTENDS] as const).map(healthy));
    processes.set(
      'balancer',
      spawnLogged(
        'balancer',
        options.haproxy ?? '/usr/sbin/haproxy',
        ['-db', '-f', haproxyFile],
        path.join(options.logDir, 'cluster-haproxy.log'),
      ),
    );
    await Promise.all(FRONTENDS.map(balancerUp));
    const connection = await Connection.connect({ address, connectTimeout: 5_000 });
    try {
      await ensureNamespace(connection, namespace, timeoutMs);
    } finally {
      await connection.close();
    }
    spawnService('worker');
    await healthy('worker');
  } catch (err) {
    await stopAll();
    throw err;
  }

  return {
    address,
    frontendAddresses: {
      'frontend-a': `127.0.0.1:${ports['frontend-a'].grpc}`,
      'frontend-b': `127.0.0.1:${ports['frontend-b'].grpc}`,
    },
    ports,
    pid: (service) => (processes.get(service)?.running() ? processes.get(service)?.pid : undefined),
    async kill(service, signal = 'SIGKILL') {
      await processes.get(service)?.stop(signal);
    },
    async start(service) {
      if (processes.get(service)?.running()) throw new Error(`temporal ${service} is already running`);
      spawnService(service);
      await healthy(service);
      if (service.startsWith('frontend')) await balancerUp(service);
    },
    async waitReady() {
      for (const service of CLUSTER_SERVICES) await healthy(service);
      await Promise.all(FRONTENDS.map(balancerUp));
    },
    balancer: () => balancerStats(statsSocket),
    stop: stopAll,
  };
};
