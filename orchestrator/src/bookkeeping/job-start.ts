import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import { ErrorType, toStorableText, type ConfirmJobInput } from '@opsc/contracts';
import { canonicalJson, planHash } from '@opsc/contracts/plan-hash';

interface JobRecord {
  tenant_id: string;
  plan_hash: string;
  requested_by: string;
  status: string;
  risk: string;
  approval: unknown;
  resolved_targets: { targets?: unknown; stepTargets?: unknown } | null;
  four_eyes: boolean;
  resume: unknown;
  mode: string;
}

/** Why this start is not the job the API recorded, or null when it is. */
const mismatch = (jobId: string, input: ConfirmJobInput, row: JobRecord | undefined): string | null => {
  if (input.jobId !== jobId) return 'the input names another job than the workflow id';
  if (!row) return 'no job was recorded with this id';
  if (row.status !== 'queued' || row.approval !== null) return `the job was started already (it is ${row.status})`;
  if (planHash(input.plan) !== input.planHash || input.planHash !== row.plan_hash)
    return 'the plan is not the one recorded for the job';
  if (input.tenantId !== row.tenant_id) return "the tenant is not the job's";
  if (input.requestedBy !== row.requested_by) return "the requester is not the job's";
  if (input.risk !== row.risk) return 'the risk is not the one recorded for the job';
  const resolved = row.resolved_targets ?? {};
  if (
    canonicalJson(input.targets) !== canonicalJson(resolved.targets) ||
    canonicalJson(input.stepTargets) !== canonicalJson(resolved.stepTargets)
  ) {
    return 'the targets are not the ones resolved for the job';
  }
  // A retry job starts each target where the API recorded it; a start that says otherwise (or
  // resumes a job that is no retry) would skip or repeat steps.
  if (canonicalJson(input.resume ?? null) !== canonicalJson(row.resume ?? null))
    return 'where the targets start is not what was recorded for the job';
  // A check-mode job runs its steps' read-only checks only (the executor's gate admits nothing else): no approval.
  if ((input.mode ?? 'run') !== row.mode) return "the mode (run or check) is not the job's";
  if (row.mode !== 'check' && !input.approval.required && (row.risk !== 'read' || input.plan.policies.approvalRequired))
    return 'the job needs an approval the input leaves out';
  if (!input.approval.fourEyes && row.four_eyes) return 'the tenant has four-eyes on and the input turns it off';
  return null;
};

/**
 * Checks a job's first run against the job the API recorded, before the run writes or runs
 * anything. Anyone who reaches Temporal can start a workflow: one that is not the recorded job
 * (another plan or targets, no approval where one is due, an id with no job or a job already
 * started) fails here, and is audited as `job.start.forged`.
 */
export const createConfirmJob =
  (pool: pg.Pool) =>
  async (input: ConfirmJobInput): Promise<void> => {
    const execution = Context.current().info.workflowExecution;
    if (!execution)
      throw ApplicationFailure.nonRetryable('a job is confirmed by its own workflow only', ErrorType.Forbidden);
    const jobId = execution.workflowId;
    const { rows } = await pool.query<JobRecord>(
      `SELECT j.tenant_id, j.plan_hash, j.requested_by, j.status, j.risk, j.approval, j.resolved_targets, j.resume, t.four_eyes, j.mode
       FROM jobs j JOIN tenants t ON t.id = j.tenant_id WHERE j.id = $1`,
      [jobId],
    );
    const row = rows[0];
    const reason = mismatch(jobId, input, row);
    if (reason === null) return;
    await pool.query(
      `INSERT INTO audit_log (tenant_id, actor, action, object_type, object_id, job_id, details)
       VALUES ($1, 'unknown', 'job.start.forged', 'job', $2, $2, $3::jsonb)`,
      [row?.tenant_id ?? null, toStorableText(jobId.slice(0, 200)), JSON.stringify({ reason, runId: execution.runId })],
    );
    throw ApplicationFailure.nonRetryable(`refused to run: ${reason}`, ErrorType.Forbidden);
  };
