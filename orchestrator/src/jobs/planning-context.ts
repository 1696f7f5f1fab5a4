import { egressRules, type EgressPolicy } from '@opsc/contracts';
import type { InventorySketch, PlanningContext, ProposeDeps } from '@opsc/planning';
import { TargetResolutionError } from '@opsc/planning';
import { resolverOnce, resolveTargets, type InventoryResolver } from '../inventory/resolve.js';
import { DomainError } from '../errors.js';
import { findArtifactVersion } from '../artifacts/artifact-store.js';
import type { JobDeps } from './deps.js';
import { estimatePlanEta } from './plan-estimate.js';
import type { OrchestratorMetrics } from '../metrics/orchestrator-metrics.js';

type PlanningDeps = Pick<JobDeps, 'pool' | 'planning' | 'platformServices' | 'pools' | 'metrics'> &
  Partial<Pick<JobDeps, 'log'>>;

/** One tenant's planning: what the planner and the validator need, and its egress policy always there. */
export type TenantPlanning = PlanningContext &
  ProposeDeps & {
    egress: () => Promise<EgressPolicy>;
    /** The inventory lookup under `resolveTargets`, each selector asked once: the job's targets come from it too. */
    inventoryTargets?: InventoryResolver;
    /** Times a planner's proposal for the metrics (`opsc_planner_duration_seconds`). */
    timePlanning?: OrchestratorMetrics['timePlanning'];
  };

const sketchOf = async (deps: PlanningDeps, tenantId: string): Promise<InventorySketch> => {
  const [groups, targets] = await Promise.all([
    deps.pool.query<{ name: string; size: number }>(
      `SELECT g.name, count(gt.target_id)::int AS size FROM target_groups g LEFT JOIN group_targets gt ON gt.group_id = g.id
        WHERE g.tenant_id = $1 GROUP BY g.name ORDER BY g.name`,
      [tenantId],
    ),
    deps.pool.query<{ name: string; os: 'linux' | 'windows' }>(
      'SELECT name, os FROM targets WHERE tenant_id = $1 ORDER BY name',
      [tenantId],
    ),
  ]);
  return { groups: groups.rows, targets: targets.rows };
};

/** The tenant's egress policy as planning judges it: its allow list, and the platform's own services. */
const tenantEgressPolicy = async (deps: PlanningDeps, tenantId: string): Promise<EgressPolicy> => {
  const { rows } = await deps.pool.query<{ destination: string }>(
    'SELECT destination FROM tenant_egress_allow WHERE tenant_id = $1',
    [tenantId],
  );
  return { allow: egressRules(rows.map((r) => r.destination)), platform: deps.platformServices };
};

/**
 * What the planner and the validator need, for one tenant: its catalog, inventory, target resolution
 * (each selector asked once per context), egress policy, and the ETA from its earlier runs.
 */
export const planningContext = (deps: PlanningDeps, tenantId: string): TenantPlanning => {
  const resolve = resolverOnce((selector) => resolveTargets(deps.pool, tenantId, selector));
  return {
    catalog: deps.planning.catalog,
    inventory: () => sketchOf(deps, tenantId),
    egress: () => tenantEgressPolicy(deps, tenantId),
    artifacts: (name, sha256) => findArtifactVersion(deps.pool, tenantId, name, sha256),
    inventoryTargets: resolve,
    resolveTargets: async (selector) => {
      try {
        return await resolve(selector);
      } catch (err) {
        if (err instanceof DomainError && err.issues) throw new TargetResolutionError(err.issues);
        throw err;
      }
    },
    estimatePlan: (plan) => estimatePlanEta(deps, tenantId, plan, resolve),
    ...(deps.planning.llm && { llm: deps.planning.llm }),
    ...(deps.pools && { quietPools: (pools: string[]) => deps.pools!.quiet(tenantId, pools, { fresh: true }) }),
    ...(deps.metrics && { timePlanning: deps.metrics.timePlanning }),
  };
};
