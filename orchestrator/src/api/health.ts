import { Router } from 'express';
import type { Health, Sent } from '@opsc/contracts/api';
import { withTimeout } from '../with-timeout.js';
import type { ApiDeps } from './deps.js';

interface Check {
  ok: boolean;
  latencyMs: number;
  error?: string;
}

const CHECK_TIMEOUT_MS = 2_000;

const timed = async (probe: () => Promise<unknown>): Promise<Check> => {
  const started = performance.now();
  try {
    await withTimeout(probe(), CHECK_TIMEOUT_MS, 'the check');
    return { ok: true, latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    return { ok: false, latencyMs: Math.round(performance.now() - started), error: (err as Error).message };
  }
};

/**
 * Liveness of what the API depends on; 503 when any is down, so a load balancer can act on it.
 * While the process starts, 503 with `status: "starting"` and what it waits for.
 * `streams` counts the live event streams and the job subscriptions serving them.
 */
export const healthRouter = (deps: ApiDeps): Router => {
  const router = Router();
  router.get('/', async (_req, res) => {
    const waitingFor = deps.readiness.waitingFor;
    if (waitingFor !== null) {
      res.status(503).json({
        status: 'starting',
        waitingFor,
        startingSeconds: Math.round((Date.now() - deps.readiness.startedAt) / 1000),
      } satisfies Sent<Health>);
      return;
    }
    const [temporal, postgres] = await Promise.all([
      timed(() => deps.client.workflowService.describeNamespace({ namespace: deps.namespace })),
      timed(() => deps.pool.query('SELECT 1')),
    ]);
    const ok = temporal.ok && postgres.ok;
    res.status(ok ? 200 : 503).json({
      status: ok ? 'ok' : 'degraded',
      checks: { temporal, postgres },
      streams: deps.eventStreams.stats(),
    } satisfies Sent<Health>);
  });
  return router;
};
