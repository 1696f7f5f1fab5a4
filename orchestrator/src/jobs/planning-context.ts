import { egressRules, type EgressPolicy } from '@opsc/contracts';
import type { InventorySketch, PlanningContext, ProposeDeps } from '@opsc/activities/planning';
import { TargetResolutionError } from '@opsc/activities/planning';
import { resolveTargets } from '../inventory/resolve.js';
import type { ApiDeps } from '../api/deps.js';
import { ApiFailure } from '../api/errors.js';

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

/** The tenant's egress policy as planning judges it: its allow list, and the platform's own services. */
export const tenantEgressPolicy = async (deps: ApiDeps, tenantId: string): Promise<EgressPolicy> => {
  const { rows } = await deps.pool.query<{ destination: string }>('SELECT destination FROM tenant_egress_allow WHERE tenant_id = $1', [tenantId]);
  return { allow: egressRules(rows.map((r) => r.destination)), platform: deps.platformServices };
};

/** What the planner and the validator need, for one tenant: its catalog, inventory, target resolution and egress policy. */
export const planningContext = (deps: ApiDeps, tenantId: string): PlanningContext & ProposeDeps => ({
  catalog: deps.planning.catalog,
  inventory: () => sketchOf(deps, tenantId),
  egress: () => tenantEgressPolicy(deps, tenantId),
  resolveTargets: async (selector) => {
    try {
      return await resolveTargets(deps.pool, tenantId, selector);
    } catch (err) {
      if (err instanceof ApiFailure && err.issues) throw new TargetResolutionError(err.issues);
      throw err;
    }
  },
  ...(deps.planning.llm && { llm: deps.planning.llm }),
});
