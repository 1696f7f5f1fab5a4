/**
 * The configuration files of a Temporal cluster on loopback: one server config per process (each
 * process has its own ports; they find each other through the membership table in PostgreSQL), the
 * dynamic config they share, and HAProxy's in front of the frontends.
 *
 * The server reads YAML; JSON is YAML, so the files are written with JSON.stringify.
 */

/** The processes of the cluster. Two frontends, one of each other service. */
export const CLUSTER_SERVICES = ['history', 'matching', 'worker', 'frontend-a', 'frontend-b'] as const;
export type ClusterService = (typeof CLUSTER_SERVICES)[number];
export const FRONTENDS = ['frontend-a', 'frontend-b'] as const satisfies readonly ClusterService[];

/** Temporal's name of the role a process runs (`temporal-server start --service`). */
export const roleOf = (service: ClusterService): 'history' | 'matching' | 'worker' | 'frontend' =>
  service.startsWith('frontend') ? 'frontend' : (service as 'history' | 'matching' | 'worker');

export interface ServicePorts {
  grpc: number;
  membership: number;
  /** The frontends' HTTP API; 0 elsewhere. */
  http: number;
  /** Prometheus metrics of the process. */
  metrics: number;
}

export interface PostgresTarget {
  host: string;
  port: number;
  user: string;
  password: string;
}

export interface ClusterLayout {
  postgres: PostgresTarget;
  databases: { persistence: string; visibility: string };
  ports: Record<ClusterService, ServicePorts>;
  /** The load balancer's listening port: the one address clients get. */
  balancerPort: number;
  numHistoryShards: number;
  dynamicConfigFile: string;
}

const sqlStore = (layout: ClusterLayout, databaseName: string, maxConns: number) => ({
  sql: {
    pluginName: 'postgres12',
    databaseName,
    connectAddr: `${layout.postgres.host}:${layout.postgres.port}`,
    connectProtocol: 'tcp',
    user: layout.postgres.user,
    password: layout.postgres.password,
    maxConns,
    maxIdleConns: maxConns,
    maxConnLifetime: '1h',
  },
});

/** The server config of one process: its own ports for its role, the others' for reference. */
export const serverConfig = (layout: ClusterLayout, service: ClusterService): Record<string, unknown> => {
  const frontend = layout.ports[service.startsWith('frontend') ? service : 'frontend-a'];
  const rpc = (ports: ServicePorts, http = false) => ({
    rpc: {
      grpcPort: ports.grpc,
      membershipPort: ports.membership,
      bindOnIP: '127.0.0.1',
      ...(http && { httpPort: ports.http }),
    },
  });
  return {
    log: { stdout: true, level: 'warn', format: 'json' },
    persistence: {
      defaultStore: 'default',
      visibilityStore: 'visibility',
      numHistoryShards: layout.numHistoryShards,
      datastores: {
        default: sqlStore(layout, layout.databases.persistence, 20),
        visibility: sqlStore(layout, layout.databases.visibility, 4),
      },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' },
      metrics: {
        prometheus: {
          framework: 'tally',
          timerType: 'histogram',
          listenAddress: `127.0.0.1:${layout.ports[service].metrics}`,
        },
      },
    },
    services: {
      frontend: rpc(frontend, true),
      history: rpc(layout.ports.history),
      matching: rpc(layout.ports.matching),
      worker: rpc(layout.ports.worker),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: {
          enabled: true,
          initialFailoverVersion: 1,
          rpcName: 'frontend',
          rpcAddress: `127.0.0.1:${layout.balancerPort}`,
        },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: layout.dynamicConfigFile, pollInterval: '10s' },
  };
};

/** Dynamic config every process shares. */
export const dynamicConfig = (): Record<string, unknown> => ({
  // Nothing leaves loopback: no periodic version check against the vendor's service.
  'frontend.enableServerVersionCheck': [{ value: false }],
  // A search attribute added by the tests is visible at once, as on the dev server.
  'system.forceSearchAttributesCacheRefreshOnRead': [{ value: true }],
});

/**
 * HAProxy in TCP mode (gRPC is HTTP/2; the balancer does not look inside) with both frontends as
 * servers, a connect check every 500 ms, and new connections sent to whichever is up.
 */
export const haproxyConfig = (layout: ClusterLayout, statsSocket: string): string =>
  [
    'global',
    `  stats socket ${statsSocket} mode 600 level admin`,
    '  maxconn 4096',
    'defaults',
    '  mode tcp',
    '  timeout connect 2s',
    // Long polls last a minute; workers' connections stay open for the life of the process.
    '  timeout client 10m',
    '  timeout server 10m',
    '  retries 3',
    '  option redispatch',
    'frontend temporal',
    `  bind 127.0.0.1:${layout.balancerPort}`,
    '  default_backend frontends',
    'backend frontends',
    '  balance roundrobin',
    ...FRONTENDS.map(
      (name) =>
        `  server ${name} 127.0.0.1:${layout.ports[name].grpc} check inter 500ms fall 2 rise 2 on-marked-down shutdown-sessions`,
    ),
    '',
  ].join('\n');
