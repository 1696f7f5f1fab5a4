import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import { ErrorType, MAX_RERUNS_PER_STEP, type Plan, type Step } from '@opsc/contracts';
import type { OutageWait } from './outage/database-outage.js';

/** What of an execution request the check reads (see `ExecutionRequest`). */
interface RerunRequest {
  jobId: string;
  target: { id: string; name: string };
  rerun?: unknown;
}

/**
 * Re-run n of a step on a target (decide `retry`, docs/retry.md) runs only when the job's record
 * says so: a retry decision the workflow confirmed, by a person with at least the operator role,
 * naming this step (or an OS variant of it: a question covers the variants that run together) and
 * re-run n; and the target failed the step's run before (n - 1), or runs re-run n now (its record
 * has no verdict yet: an activity retry of the re-run). Anything else is refused for good, except
 * a failure whose verdict is not on record yet, which is asked again later.
 */
export const createRerunCheck = (
  pool: pg.Pool,
  wait: OutageWait,
  refuse: (why: string) => never,
): ((request: RerunRequest, plan: Plan, step: Step) => Promise<void>) => {
  return async (request, plan, step) => {
    const n = request.rerun;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1 || n > MAX_RERUNS_PER_STEP)
      return refuse(`${String(n).slice(0, 20)} is not a re-run of step ${step.id}`);
    const siblings = step.variantOf
      ? plan.steps.filter((s) => s.variantOf === step.variantOf).map((s) => s.id)
      : [step.id];
    const found = await wait.outlast(`the retry decisions of job ${request.jobId}`, async () => {
      const { rows } = await pool.query<{ decided: boolean; rerun: number | null; status: string | null }>(
        `SELECT EXISTS (SELECT 1 FROM job_decisions d
                         WHERE d.job_id = $1 AND d.action = 'decide' AND d.choice = 'retry'
                           AND d.status IN ('confirmed', 'applied') AND d.role IN ('operator', 'approver', 'admin')
                           AND d.rerun = $3 AND d.retry_step_id = ANY($2::text[])) AS decided,
                r.rerun, r.status
           FROM (SELECT 1) one
           LEFT JOIN step_results r ON r.job_id = $1 AND r.step_id = $4 AND r.target_id = $5`,
        [request.jobId, siblings, n, step.id, request.target.id],
      );
      return rows[0]!;
    });
    if (!found.decided)
      return refuse(`no retry decision of job ${request.jobId} on record runs step ${step.id} again as re-run ${n}`);
    const { rerun, status } = found;
    if (rerun === n - 1 && status === 'failed') return;
    if (rerun === n && status === null) return;
    if (rerun === n - 1 && status === null)
      throw ApplicationFailure.retryable(
        `how step ${step.id} ended on ${request.target.name} is not on record yet; its re-run waits for it`,
        ErrorType.Unavailable,
      );
    return refuse(
      `step ${step.id} did not fail on ${request.target.name} before re-run ${n} (${rerun === null ? 'it never ran there' : `run ${rerun}: ${status ?? 'running'}`})`,
    );
  };
};
