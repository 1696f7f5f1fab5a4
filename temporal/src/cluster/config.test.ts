import { describe, expect, it } from 'vitest';
import { CLUSTER_SERVICES, haproxyConfig, serverConfig, type ClusterLayout, type ServicePorts } from './config.js';
import { freeLowPort } from './process.js';

const layout = (): ClusterLayout => {
  let next = 20_000;
  const ports = (): ServicePorts => ({ grpc: next++, membership: next++, http: next++, metrics: next++ });
  return {
    postgres: { host: '127.0.0.1', port: 5432, user: 'postgres', password: 'pw' },
    databases: { persistence: 'temporal', visibility: 'temporal_visibility' },
    ports: Object.fromEntries(CLUSTER_SERVICES.map((s) => [s, ports()])) as ClusterLayout['ports'],
    balancerPort: 30_000,
    numHistoryShards: 4,
    dynamicConfigFile: '/tmp/dynamicconfig.yaml',
  };
};

type Rendered = {
  services: Record<string, { rpc: { grpcPort: number; membershipPort: number; bindOnIP: string } }>;
  global: { metrics: { prometheus: { listenAddress: string } } };
  clusterMetadata: { clusterInformation: { active: { rpcAddress: string } } };
};

describe('the cluster configuration', () => {
  it('gives each frontend process its own ports and every process its own metrics port, on loopback', () => {
    const l = layout();
    const a = serverConfig(l, 'frontend-a') as Rendered;
    const b = serverConfig(l, 'frontend-b') as Rendered;
    expect(a.services.frontend!.rpc.grpcPort).toBe(l.ports['frontend-a'].grpc);
    expect(b.services.frontend!.rpc.grpcPort).toBe(l.ports['frontend-b'].grpc);
    expect(b.services.frontend!.rpc.membershipPort).toBe(l.ports['frontend-b'].membership);
    const metrics = CLUSTER_SERVICES.map(
      (s) => (serverConfig(l, s) as Rendered).global.metrics.prometheus.listenAddress,
    );
    expect(new Set(metrics).size).toBe(CLUSTER_SERVICES.length);
    for (const service of Object.values(a.services)) expect(service.rpc.bindOnIP).toBe('127.0.0.1');
    // The system's own clients go through the balancer, as outside clients do.
    expect(a.clusterMetadata.clusterInformation.active.rpcAddress).toBe('127.0.0.1:30000');
  });

  it('balances TCP over both frontends with health checks, on loopback only', () => {
    const l = layout();
    const text = haproxyConfig(l, '/tmp/haproxy.sock');
    expect(text).toMatch(/^\s+mode tcp$/m);
    expect(text).toContain('bind 127.0.0.1:30000');
    for (const name of ['frontend-a', 'frontend-b'] as const)
      expect(text).toContain(`server ${name} 127.0.0.1:${l.ports[name].grpc} check`);
  });

  it('picks membership ports that fit the smallint column Temporal keeps them in', async () => {
    for (let i = 0; i < 5; i++) expect(await freeLowPort()).toBeLessThan(32_768);
  });
});
