import { Router } from 'express';
import type { ApiDeps } from './deps.js';

interface Check {
  ok: boolean;
  latencyMs: number;
  error?: string;
}

const CHECK_TIMEOUT_MS = 2_000;

const timed = async (probe: () => Promise<unknown>): Promise<Check> => {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { ok: true, latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    return { ok: false, latencyMs: Math.round(performance.now() - started), error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
};

/** Liveness of what the API depends on; 503 when any is down, so a load balancer can act on it. */
export const healthRouter = (deps: ApiDeps): Router => {
  const router = Router();
  router.get('/', async (_req, res) => {
    const [temporal, postgres] = await Promise.all([
      timed(() => deps.client.workflowService.describeNamespace({ namespace: deps.namespace })),
      timed(() => deps.pool.query('SELECT 1')),
    ]);
    const ok = temporal.ok && postgres.ok;
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'degraded', checks: { temporal, postgres } });
  });
  return router;
};
