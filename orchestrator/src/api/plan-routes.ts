import { Router } from 'express';
import { ErrorType } from '@opsc/contracts';
import { PlanRequestBody, type PlanAnswer, type Sent, type ToolList } from '@opsc/contracts/api';
import { proposePlan, validatePlan } from '@opsc/planning';
import { principalOf, requireRole } from './auth.js';
import type { ApiDeps } from './deps.js';
import { ApiFailure } from './errors.js';
import { parseBody } from './validate.js';
import { planningContext } from '../jobs/planning-context.js';

/** Planning: plain English (or an edited plan) in, a validated and explained plan out. Nothing runs here. */
export const plansRouter = (deps: ApiDeps): Router => {
  const router = Router();
  router.post('/', requireRole('operator'), async (req, res) => {
    const body = parseBody(PlanRequestBody, req);
    const { tenantId } = principalOf(res);
    const context = planningContext(deps, tenantId);
    const started = Date.now();
    if ('request' in body) {
      const propose = () => proposePlan(body.request, context);
      const proposal = await (context.timePlanning ? context.timePlanning(propose) : propose());
      deps.log.info('plan proposed', {
        planner: proposal.planner,
        status: proposal.status,
        ms: Date.now() - started,
        ...(proposal.fallbackReason && { fallback: proposal.fallbackReason }),
      });
      res.json(proposal satisfies Sent<PlanAnswer>);
      return;
    }
    const v = await validatePlan(body.plan, context);
    if (v.status === 'invalid')
      throw new ApiFailure(
        ErrorType.PlanInvalid,
        'the plan does not validate',
        v.issues.map((i) => ({ path: `plan.${i.path}`, message: i.message })),
      );
    res.json(v satisfies Sent<PlanAnswer>);
  });
  return router;
};

/** The catalog as planners and people see it. */
export const toolsRouter = (deps: ApiDeps): Router => {
  const router = Router();
  router.get('/', (_req, res) => {
    const { catalog } = deps.planning;
    res.json({ tools: catalog.summaries(), unavailable: catalog.unavailableTools() } satisfies Sent<ToolList>);
  });
  return router;
};
