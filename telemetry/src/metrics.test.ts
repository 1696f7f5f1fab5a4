import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Counter, Registry } from 'prom-client';
import { boundedLabel, createMetricsServer, freeLoopbackPort, metricsText, sdkExposition } from './metrics.js';

const servers: http.Server[] = [];
const listen = async (handler: http.RequestListener): Promise<number> => {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
};
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

const registryWithCounter = () => {
  const registry = new Registry();
  new Counter({ name: 'opsc_test_total', help: 'a test counter', registers: [registry] }).inc(3);
  return registry;
};

describe('the metrics helpers', () => {
  it('keeps a label value only from its closed set', () => {
    expect(boundedLabel('completed', ['completed', 'failed'] as const)).toBe('completed');
    expect(boundedLabel('web-01.example.com', ['completed', 'failed'] as const)).toBe('other');
    expect(boundedLabel(undefined, ['a'] as const, 'unknown')).toBe('unknown');
  });

  it("appends the SDK exporter's text to the service's own", async () => {
    const sdk = '# TYPE temporal_num_pollers gauge\ntemporal_num_pollers{poller_type="activity_task"} 5';
    const port = await listen((req, res) => res.writeHead(req.url === '/metrics' ? 200 : 404).end(sdk));
    const text = await metricsText(registryWithCounter(), port);
    expect(text).toMatch(/^# HELP opsc_test_total a test counter\n/);
    expect(text).toContain('opsc_test_total 3\n');
    expect(text.endsWith(`${sdk}\n`)).toBe(true);
  });

  it("still serves the service's own metrics when the SDK exporter is gone or silent", async () => {
    const gone = await freeLoopbackPort();
    expect(await metricsText(registryWithCounter(), gone)).toContain('opsc_test_total 3');
    const silent = await listen(() => undefined);
    const started = Date.now();
    expect(await sdkExposition(silent, 300)).toBe('');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('answers /metrics on its own listener and nothing else', async () => {
    const server = createMetricsServer(registryWithCounter());
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(await res.text()).toContain('opsc_test_total 3');
    expect((await fetch(`${base}/api/jobs`)).status).toBe(404);
  });
});
