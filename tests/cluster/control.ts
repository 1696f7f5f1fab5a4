import { inject } from 'vitest';
import type { BalancerServer, ClusterService } from '@opsc/temporal/cluster';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The cluster set-up's control endpoint (tests/cluster/global-setup.ts): faults are injected through it. */
    clusterControlUrl: string;
  }
}

/** What the cluster set-up answers about its processes. */
export interface ClusterState {
  pids: Partial<Record<ClusterService | 'postgres', number>>;
  balancer: Record<string, BalancerServer>;
}

const call = async <T>(method: 'GET' | 'POST', route: string): Promise<T> => {
  const res = await fetch(`${inject('clusterControlUrl')}${route}`, { method });
  const text = await res.text();
  if (!res.ok) throw new Error(`cluster control ${method} ${route}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
};

/**
 * The cluster's processes live in the set-up's process (they outlive each test file); test files kill,
 * stop and start them through its control endpoint on loopback. Each call returns once done: a kill
 * once the process has exited, a start once the service serves again.
 */
export const cluster = {
  state: () => call<ClusterState>('GET', '/state'),
  /** SIGKILL (a crash) or SIGTERM (an orderly stop) to one Temporal service; resolves when it has exited. */
  kill: (service: ClusterService, signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL') =>
    call<ClusterState>('POST', `/services/${service}/kill?signal=${signal}`),
  /** Starts a stopped service on its old ports; resolves when it serves (and, for a frontend, the balancer sees it). */
  start: (service: ClusterService) => call<ClusterState>('POST', `/services/${service}/start`),
  /** Stops PostgreSQL (fast shutdown: every connection cut); resolves when it has exited. */
  stopPostgres: () => call<ClusterState>('POST', '/postgres/stop'),
  /** Starts PostgreSQL again on the same data and port; resolves when it accepts connections. */
  startPostgres: () => call<ClusterState>('POST', '/postgres/start'),
  /** Resolves when every service serves and the balancer sees both frontends. */
  ready: () => call<ClusterState>('POST', '/ready'),
};
