import http from 'node:http';
import type { Registry } from 'prom-client';
import { serveMetrics } from '@opsc/telemetry/metrics';

/** Resolves when healthy (optionally with details to show) and throws with a reason when not. */
export type HealthCheck = () => Promise<void | Record<string, unknown>>;

export interface HealthProbe {
  /** Name -> check; any failing one makes the executor unhealthy (503). */
  checks: Record<string, HealthCheck>;
  /** Name -> check that is reported but does not make the executor unhealthy (the sandbox: SSH, WinRM and HTTP steps still run). */
  advisory?: Record<string, HealthCheck>;
  /** True once the executor is shutting down: /health answers 503 "stopping" whatever the checks say. */
  stopping?: () => boolean;
  registry: Registry;
  /** The Temporal SDK's internal exporter, whose metrics `/metrics` appends to the executor's. */
  sdkMetricsPort?: number;
}

const CHECK_TIMEOUT_MS = 2_000;

const run = async (check: HealthCheck): Promise<{ ok: boolean; error?: string }> => {
  let timer: NodeJS.Timeout | undefined;
  try {
    const details = await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { ...(details as Record<string, unknown> | undefined), ok: true };
  } catch (err) {
    return { ...(err as { details?: Record<string, unknown> }).details, ok: false, error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
};

/** `/health` (200 or 503 with each check) and `/metrics` (Prometheus text) for the executor. */
export const createHealthServer = (probe: HealthProbe): http.Server =>
  http.createServer((req, res) => {
    void (async () => {
      if (req.method === 'GET' && req.url === '/health') {
        const all = { ...probe.advisory, ...probe.checks };
        const names = Object.keys(all);
        const results = await Promise.all(names.map((n) => run(all[n]!)));
        const checks = Object.fromEntries(names.map((n, i) => [n, results[i]]));
        const ok = names.every((n, i) => results[i]!.ok || !(n in probe.checks));
        const status = probe.stopping?.() ? 'stopping' : ok ? 'ok' : 'degraded';
        res.writeHead(status === 'ok' ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status, checks }));
        return;
      }
      if (serveMetrics(probe.registry, probe.sdkMetricsPort, req, res)) return;
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { type: 'NotFound', message: `no route ${req.method} ${req.url}` } }));
    })().catch(() => {
      res.writeHead(500).end();
    });
  });
