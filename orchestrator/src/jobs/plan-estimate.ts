import { estimateRequests, planEta, type EtaRange, type Plan } from '@opsc/contracts';
import { estimateStepsOn } from '../bookkeeping/job-estimates.js';
import { DomainError } from '../errors.js';
import type pg from 'pg';
import type { Logger } from '@opsc/telemetry';
import type { InventoryResolver } from '../inventory/resolve.js';
import { resolveJobTargets, resolvedWith } from '../inventory/step-targets.js';

/** The most a plan's ETA may take: the plan card and a submission do not wait longer for it. */
export const PLAN_ETA_BUDGET_MS = 1_500;

/**
 * A ready plan's ETA as its job will start with it (contracts' `planEta`): the targets each step
 * runs on, as the job would fix them, timed from the tenant's earlier runs and the platform's
 * measured dispatch cost. It asks the inventory nothing the validation did not, and the history
 * within `PLAN_ETA_BUDGET_MS` (read only; each statement and the whole bounded). Null, and a warning
 * in the log, when it cannot be made: the plan card then shows the tools' typical durations.
 */
export const estimatePlanEta = async (
  deps: { pool: pg.Pool; log?: Logger },
  tenantId: string,
  plan: Plan,
  /** The resolver the validation used (its answers are reused); absent: the inventory is asked. */
  resolve?: InventoryResolver,
  budgetMs = PLAN_ETA_BUDGET_MS,
): Promise<EtaRange | null> => {
  const deadline = Date.now() + budgetMs;
  let client: pg.PoolClient | undefined;
  let broken = false;
  try {
    const { targets, stepTargets } = await resolveJobTargets(
      deps.pool,
      tenantId,
      resolve ? resolvedWith(plan, resolve) : plan,
    );
    client = await deps.pool.connect();
    await client.query('BEGIN READ ONLY');
    await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.round(budgetMs))}`);
    const estimates = await estimateStepsOn(
      client,
      { tenantId, jobId: null, targets, stepTargets },
      estimateRequests(plan),
      deadline,
    );
    await client.query('COMMIT');
    return planEta(plan, estimates)?.range ?? null;
  } catch (err) {
    // A connection that cannot even roll back is not handed back to the pool.
    broken = client
      ? await client.query('ROLLBACK').then(
          () => false,
          () => true,
        )
      : false;
    if (err instanceof DomainError) return null;
    deps.log?.warn('plan ETA not made; the tools’ typical durations stand', { error: (err as Error).message });
    return null;
  } finally {
    client?.release(broken || undefined);
  }
};
