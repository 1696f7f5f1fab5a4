import express, { Router, type ErrorRequestHandler, type Request, type Response } from 'express';
import { randomUUID } from 'node:crypto';
import { ErrorType, type ApiError } from '@opsc/contracts';
import { recordAudit } from '../audit.js';
import { SourceLimiter, sourceKey } from '../identity/source-limiter.js';
import { authenticateDelivery } from '../triggers/authenticate-delivery.js';
import { FireGate } from '../triggers/fire-gate.js';
import { fireTrigger, ReplayRefused } from '../triggers/fire-trigger.js';
import { findTrigger, insertDelivery, type TriggerRow } from '../triggers/trigger-store.js';
import type { ApiDeps } from './deps.js';
import { Unavailable } from '../errors.js';
import { ApiFailure } from './errors.js';
import { jsonProblem } from './safe-input.js';

/** One answer for every delivery that does not authenticate, whatever the reason (no oracle). */
const UNAUTHENTICATED: ApiError = {
  error: { type: ErrorType.AuthFailed, message: 'the delivery is not authenticated' },
};

/**
 * `POST /api/hooks/:id`: deliveries to triggers (docs/triggers.md). The body is read raw (the
 * signature covers its bytes), up to the configured limit. A source that fails to authenticate too
 * often is refused for a while; a trigger takes so many deliveries a minute.
 */
export const hooksRouter = (deps: ApiDeps): Router => {
  const router = Router();
  const settings = deps.triggers;
  const failures = new SourceLimiter({ maxFailures: settings.sourceMaxFailures, windowSeconds: 300 });
  const perTrigger = new SourceLimiter({ maxFailures: settings.deliveriesPerMinute, windowSeconds: 60 });
  const gate = new FireGate({
    concurrent: settings.concurrentFires ?? 3,
    queued: settings.queuedFires ?? 100,
    waitMs: 30_000,
  });
  const raw = express.raw({ type: () => true, limit: settings.bodyLimitBytes });

  /** A refusal of a known trigger, recorded after the answer is sent (its time tells nothing). */
  const recordRefusal = async (t: TriggerRow, req: Request, reason: string) => {
    try {
      const deliveryId = randomUUID();
      await insertDelivery(deps.pool, { id: deliveryId, trigger: t, outcome: 'refused', reason, sourceIp: req.ip });
      await recordAudit(deps.pool, {
        tenantId: t.tenant_id,
        actor: `hook:${sourceKey(req.ip)}`,
        action: 'trigger.refused',
        objectType: 'trigger',
        objectId: t.id,
        ...(req.ip && { sourceIp: req.ip }),
        details: { name: t.name, deliveryId, reason },
      });
    } catch (err) {
      deps.log.warn('a refused delivery was not recorded', { triggerId: t.id, error: (err as Error).message });
    }
  };

  const unauthenticated = async (res: Response, req: Request, t: TriggerRow | undefined, reason: string) => {
    res.status(401).json(UNAUTHENTICATED);
    if (t) await recordRefusal(t, req, reason);
  };

  router.post(
    '/:id',
    (req, res, next) => {
      const taken = failures.take(sourceKey(req.ip));
      if (!taken.ok) {
        res.set('retry-after', String(taken.retryAfterSeconds));
        throw new ApiFailure(ErrorType.RateLimited, 'too many deliveries from this address failed; try again later');
      }
      next();
    },
    raw,
    async (req, res) => {
      const t = await findTrigger(deps.pool, String(req.params.id));
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const auth = authenticateDelivery(
        t,
        {
          timestamp: req.get('x-opsc-timestamp'),
          signature: req.get('x-opsc-signature'),
          authorization: req.get('authorization'),
        },
        body,
        settings.key,
        Date.now(),
      );
      if (!auth.ok || !t) return unauthenticated(res, req, t, auth.ok ? 'no such trigger' : auth.reason);
      failures.refund(sourceKey(req.ip));
      const rate = perTrigger.take(t.id);
      if (!rate.ok) {
        await recordRefusal(t, req, 'rate limited');
        res.set('retry-after', String(rate.retryAfterSeconds));
        throw new ApiFailure(
          ErrorType.RateLimited,
          `this trigger takes ${settings.deliveriesPerMinute} deliveries a minute`,
        );
      }
      let payload: unknown;
      try {
        payload = JSON.parse(body.toString('utf8'));
      } catch {
        await recordRefusal(t, req, 'the body is not JSON');
        throw new ApiFailure(ErrorType.ValidationFailed, 'the body is not JSON', [
          { path: 'body', message: 'is not JSON' },
        ]);
      }
      const problem = jsonProblem(payload, 'body');
      if (problem) {
        await recordRefusal(t, req, `${problem.path} ${problem.message}`);
        throw new ApiFailure(ErrorType.ValidationFailed, `invalid body: ${problem.path} ${problem.message}`, [problem]);
      }
      try {
        const fired = await gate.run(() =>
          fireTrigger(deps, t, { payload, signatureKey: auth.signatureKey, sourceIp: req.ip }),
        );
        res.status(fired.status).json(fired.answer);
      } catch (err) {
        if (err instanceof ReplayRefused) return unauthenticated(res, req, undefined, 'replayed signature');
        if (err instanceof Unavailable) {
          res.set('retry-after', '5');
          // Recorded beside the answer, not before it: the refusal is for a busy orchestrator.
          void recordRefusal(t, req, err.message);
        }
        throw err;
      }
    },
  );

  /** A body over the limit: refused before it is read whole, the same for every trigger id. */
  const tooLarge: ErrorRequestHandler = async (err: unknown, req, res, next) => {
    if ((err as { type?: string }).type !== 'entity.too.large') return next(err);
    res.status(413).json({
      error: { type: ErrorType.ValidationFailed, message: `the body is larger than ${settings.bodyLimitBytes} bytes` },
    } satisfies ApiError);
    const t = await findTrigger(deps.pool, req.path.split('/')[1] ?? '').catch(() => undefined);
    if (t) await recordRefusal(t, req, `the body is larger than ${settings.bodyLimitBytes} bytes`);
  };
  router.use(tooLarge);
  return router;
};
