import { Router } from 'express';
import { z } from 'zod';
import { ErrorType } from '@opsc/contracts';
import { proposePlan, TargetResolutionError, validatePlan, type InventorySketch } from '@opsc/activities/planning';
import { resolveTargets } from '../inventory/resolve.js';
import { principalOf, requireRole } from './auth.js';
import type { ApiDeps } from './deps.js';
import { ApiFailure } from './errors.js';
import { parseBody } from './validate.js';

/** Either a request in words, or a plan someone edited (validated again, never trusted). */
const PlanBody = z.union([
  z.strictObject({ request: z.string().trim().min(1, { message: 'say what to do' }).max(4_000) }),
  z.strictObject({ plan: z.unknown() }),
]);

const sketchOf = async (deps: ApiDeps, tenantId: string): Promise<InventorySketch> => {
  const [groups, targets] = await Promise.all([
    deps.pool.query<{ name: string; size: number }>(
      `SELECT g.name, count(gt.target_id)::int AS size FROM target_groups g LEFT JOIN group_targets gt ON gt.group_id = g.id
        WHERE g.tenant_id = $1 GROUP BY g.name ORDER BY g.name`,
      [tenantId],
    ),
    deps.pool.query<{ name: string; os: 'linux' | 'windows' }>('SELECT name, os FROM targets WHERE tenant_id = $1 ORDER BY name', [tenantId]),
  ]);
  return { groups: groups.rows, targets: targets.rows };
};

/** Planning: plain English (or an edited plan) in, a validated and explained plan out. Nothing runs here. */
export const plansRouter = (deps: ApiDeps): Router => {
  const router = Router();
  router.post('/', requireRole('operator'), async (req, res) => {
    const body = parseBody(PlanBody, req);
    const { tenantId } = principalOf(res);
    const resolve = async (selector: Parameters<typeof resolveTargets>[2]) => {
      try {
        return await resolveTargets(deps.pool, tenantId, selector);
      } catch (err) {
        if (err instanceof ApiFailure && err.issues) throw new TargetResolutionError(err.issues);
        throw err;
      }
    };
    const started = Date.now();
    if ('request' in body) {
      const proposal = await proposePlan(body.request, {
        catalog: deps.planning.catalog,
        inventory: () => sketchOf(deps, tenantId),
        resolveTargets: resolve,
        ...(deps.planning.llm && { llm: deps.planning.llm }),
      });
      deps.log.info('plan proposed', { planner: proposal.planner, status: proposal.status, ms: Date.now() - started, ...(proposal.fallbackReason && { fallback: proposal.fallbackReason }) });
      res.json(proposal);
      return;
    }
    const v = await validatePlan(body.plan, { catalog: deps.planning.catalog, resolveTargets: resolve });
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
