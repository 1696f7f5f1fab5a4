import http from 'node:http';
import type { Registry } from 'prom-client';

export interface HealthProbe {
  /** Name -> check; each resolves when healthy and throws with a reason when not. */
  checks: Record<string, () => Promise<void>>;
  registry: Registry;
}

const CHECK_TIMEOUT_MS = 2_000;

const run = async (check: () => Promise<void>): Promise<{ ok: boolean; error?: string }> => {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { ok: true };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
};

/** `/health` (200 or 503 with each check) and `/metrics` (Prometheus text) for the executor. */
export const createHealthServer = (probe: HealthProbe): http.Server =>
  http.createServer((req, res) => {
    void (async () => {
      if (req.method === 'GET' && req.url === '/health') {
        const names = Object.keys(probe.checks);
        const results = await Promise.all(names.map((n) => run(probe.checks[n]!)));
        const checks = Object.fromEntries(names.map((n, i) => [n, results[i]]));
        const ok = results.every((r) => r.ok);
        res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: ok ? 'ok' : 'degraded', checks }));
        return;
      }
      if (req.method === 'GET' && req.url === '/metrics') {
        res.writeHead(200, { 'content-type': probe.registry.contentType });
        res.end(await probe.registry.metrics());
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { type: 'NotFound', message: `no route ${req.method} ${req.url}` } }));
    })().catch(() => {
      res.writeHead(500).end();
    });
  });
