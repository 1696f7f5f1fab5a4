import { estimateRequests, planEta, type EtaRange, type Plan } from '@opsc/contracts';
import { estimateStepsOn } from '../bookkeeping/job-estimates.js';
import { DomainError } from '../errors.js';
import type pg from 'pg';
import type { Logger } from '@opsc/telemetry';
import type { InventoryResolver } from '../inventory/resolve.js';
import { resolveJobTargets, resolvedWith } from '../inventory/step-targets.js';

/**
 * A ready plan's ETA as its job will start with it (contracts' `planEta`): the targets each step
 * runs on, as the job would fix them, timed from the tenant's earlier runs and the platform's
 * measured dispatch cost. Null, and a warning in the log, when it cannot be made: the plan card then
 * shows the tools' typical durations. It asks the inventory nothing the validation did not.
 */
export const estimatePlanEta = async (
  deps: { pool: pg.Pool; log?: Logger },
  tenantId: string,
  plan: Plan,
  resolve: InventoryResolver,
): Promise<EtaRange | null> => {
  try {
    const { targets, stepTargets } = await resolveJobTargets(deps.pool, tenantId, resolvedWith(plan, resolve));
    const estimates = await estimateStepsOn(
      deps.pool,
      { tenantId, jobId: null, targets, stepTargets },
      estimateRequests(plan),
    );
    return planEta(plan, estimates)?.range ?? null;
  } catch (err) {
    if (err instanceof DomainError) return null;
    deps.log?.warn('plan ETA not made; the tools’ typical durations stand', { error: (err as Error).message });
    return null;
  }
};
