import type { InventorySketch, PlanningContext, ProposeDeps } from '@opsc/activities/planning';
import { TargetResolutionError } from '@opsc/activities/planning';
import { resolveTargets } from '../inventory/resolve.js';
import type { ApiDeps } from './deps.js';
import { ApiFailure } from './errors.js';

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

/** What the planner and the validator need, for one tenant: its catalog, inventory and target resolution. */
export const planningContext = (deps: ApiDeps, tenantId: string): PlanningContext & ProposeDeps => ({
  catalog: deps.planning.catalog,
  inventory: () => sketchOf(deps, tenantId),
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
