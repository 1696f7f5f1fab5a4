import { Router } from 'express';
import { z } from 'zod';
import { ErrorType } from '@opsc/contracts';
import { proposePlan, validatePlan } from '@opsc/activities/planning';
import { principalOf, requireRole } from './auth.js';
import type { ApiDeps } from './deps.js';
import { ApiFailure } from './errors.js';
import { parseBody } from './validate.js';
import { planningContext } from '../jobs/planning-context.js';

/** Either a request in words, or a plan someone edited (validated again, never trusted). */
const PlanBody = z.union([
  z.strictObject({ request: z.string().trim().min(1, { message: 'say what to do' }).max(4_000) }),
  z.strictObject({ plan: z.unknown() }),
]);

/** Planning: plain English (or an edited plan) in, a validated and explained plan out. Nothing runs here. */
export const plansRouter = (deps: ApiDeps): Router => {
  const router = Router();
  router.post('/', requireRole('operator'), async (req, res) => {
    const body = parseBody(PlanBody, req);
    const { tenantId } = principalOf(res);
    const context = planningContext(deps, tenantId);
    const started = Date.now();
    if ('request' in body) {
      const proposal = await proposePlan(body.request, context);
      deps.log.info('plan proposed', { planner: proposal.planner, status: proposal.status, ms: Date.now() - started, ...(proposal.fallbackReason && { fallback: proposal.fallbackReason }) });
      res.json(proposal);
      return;
    }
    const v = await validatePlan(body.plan, context);
    if (v.status === 'invalid') throw new ApiFailure(ErrorType.PlanInvalid, 'the plan does not validate', v.issues.map((i) => ({ path: `plan.${i.path}`, message: i.message })));
    res.json(v);
  });
  return router;
};

/** The catalog as planners and people see it. */
export const toolsRouter = (deps: ApiDeps): Router => {
  const router = Router();
  router.get('/', (_req, res) => {
    res.json({ tools: deps.planning.catalog.summaries() });
  });
  return router;
};
