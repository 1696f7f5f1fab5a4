import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import {
  ErrorType,
  FINAL_JOB_STATUSES,
  isFinalJobStatus,
  type JobEvent,
  type RecordJobStatusInput,
  type RecordStepResultsInput,
} from '@opsc/contracts';
import type { OrchestratorMetrics } from '../metrics/orchestrator-metrics.js';

/**
 * Anyone who reaches Temporal can schedule these activities from a workflow of their own: a job's
 * record (status, verdicts, events and their audit entries) is written by that job's workflow only.
 */
export const ownJobOnly = (jobId: string): void => {
  if (Context.current().info.workflowExecution?.workflowId === jobId) return;
  throw ApplicationFailure.nonRetryable(
    `the record of job ${String(jobId).slice(0, 100)} is written by its own workflow only`,
    ErrorType.Forbidden,
  );
};

/** Keeps the job row in step with the workflow; the workflow is the source of truth for state. */
export const createRecordJobStatus =
  (pool: pg.Pool, metrics?: OrchestratorMetrics) =>
  async (input: RecordJobStatusInput): Promise<void> => {
    ownJobOnly(input.jobId);
    const terminal = isFinalJobStatus(input.status);
    // A finished job stays finished: a workflow started later under its id (Temporal lets a closed
    // workflow's id be used again) must not make it unfinished, for the executor's gate runs the
    // steps of unfinished jobs only. The outcome is audited in the same statement, and only when the
    // status really changes, so a retried activity does not audit twice.
    const { rowCount } = await pool.query(
      `WITH changed AS (
         UPDATE jobs SET status = $2, updated_at = now(),
           started_at = CASE WHEN $2 = 'running' THEN coalesce(started_at, now()) ELSE started_at END,
           finished_at = CASE WHEN $3 THEN now() ELSE finished_at END,
           error_type = $4, error_message = $5, outcome = coalesce($6::jsonb, outcome)
         WHERE id = $1 AND status <> $2 AND NOT (status = ANY($7::text[]))
         RETURNING id, tenant_id, plan_hash
       )
       INSERT INTO audit_log (tenant_id, actor, action, object_type, object_id, job_id, plan_hash)
       SELECT tenant_id, 'workflow', 'job.' || $2, 'job', id, id, plan_hash FROM changed WHERE $3`,
      [
        input.jobId,
        input.status,
        terminal,
        input.error?.type ?? null,
        input.error?.message ?? null,
        input.outcome ? JSON.stringify(input.outcome) : null,
        [...FINAL_JOB_STATUSES],
      ],
    );
    // The audit row is written only when the job really turned final: a retried activity counts once.
    if (terminal && rowCount) metrics?.jobFinished(input.status, input.outcome);
  };

/**
 * Records the workflow's verdict per step and target beside the output the executor stored.
 * An upsert: a verdict for a target the executor never reached (refused, unreachable) still lands.
 */
export const createRecordStepResults =
  (pool: pg.Pool, metrics?: OrchestratorMetrics) =>
  async ({ jobId, verdicts }: RecordStepResultsInput): Promise<void> => {
    ownJobOnly(jobId);
    if (verdicts.length === 0) return;
    // The rows whose verdict is new (first verdict, another status, or a re-run's) are returned, so a
    // retried batch is not counted twice.
    const { rows } = await pool.query<{ step_id: string; status: string }>(
      `WITH v AS (
         SELECT * FROM jsonb_to_recordset($2::jsonb) AS v(step_id text, target_id text, target_name text, status text,
                                                         error_type text, error_message text, tool_key text, duration_ms integer, rerun integer)
       ), before AS (
         SELECT sr.step_id, sr.target_id, sr.status, sr.rerun FROM step_results sr
           JOIN v ON sr.job_id = $1 AND sr.step_id = v.step_id AND sr.target_id = v.target_id
       ), up AS (
         INSERT INTO step_results (job_id, step_id, target_id, target_name, status, error_type, error_message, tool_key, duration_ms, rerun)
         SELECT $1, v.step_id, v.target_id, v.target_name, v.status, v.error_type, v.error_message, v.tool_key, v.duration_ms, v.rerun
         FROM v
         ON CONFLICT (job_id, step_id, target_id) DO UPDATE SET
           -- The verdict of a re-run (decide retry) whose executor record never came still says which run it is.
           rerun = GREATEST(step_results.rerun, EXCLUDED.rerun),
           status = EXCLUDED.status, error_type = EXCLUDED.error_type, error_message = EXCLUDED.error_message,
           tool_key = EXCLUDED.tool_key, duration_ms = EXCLUDED.duration_ms
         RETURNING step_id, target_id, status, rerun
       )
       SELECT up.step_id, up.status FROM up LEFT JOIN before b USING (step_id, target_id)
        WHERE b.step_id IS NULL OR b.status IS DISTINCT FROM up.status OR b.rerun < up.rerun`,
      [
        jobId,
        JSON.stringify(
          verdicts.map((v) => ({
            step_id: v.stepId,
            target_id: v.target.id,
            target_name: v.target.name,
            status: v.status,
            error_type: v.error?.type ?? null,
            error_message: v.error?.message ?? null,
            tool_key: v.toolKey ?? null,
            duration_ms: v.durationMs ?? null,
            rerun: v.rerun ?? 0,
          })),
        ),
      ],
    );
    metrics?.verdictsRecorded(rows.map((r) => ({ stepId: r.step_id, status: r.status })));
  };

/**
 * Records what a person (or a timeout) did to a job: on the job row (approval, and the list of
 * events) and in the audit log, in one statement, once per event key however often it is retried.
 */
export const createRecordJobEvent =
  (pool: pg.Pool) =>
  async (e: JobEvent): Promise<void> => {
    ownJobOnly(e.jobId);
    const entry = {
      key: e.key,
      action: e.action,
      actor: e.actor,
      at: e.at,
      ...(e.comment && { comment: e.comment }),
      ...(e.details && { details: e.details }),
      ...(e.decisionId && { decisionId: e.decisionId }),
    };
    const approval =
      e.action === 'approve' || e.action === 'reject' || e.action === 'approval-timeout'
        ? {
            status: e.action === 'approve' ? 'approved' : e.action === 'reject' ? 'rejected' : 'timed_out',
            by: e.actor,
            at: e.at,
            comment: e.comment ?? null,
            planHash: e.planHash,
          }
        : null;
    // A decision's row is marked applied in the same statement: the record of what happened and the
    // decision it came from never disagree.
    await pool.query(
      `WITH logged AS (
         INSERT INTO audit_log (tenant_id, actor, action, object_type, object_id, job_id, plan_hash, source_ip, details, event_key)
         SELECT tenant_id, $2, 'job.' || $3, 'job', id, id, $4, $5, $6::jsonb, $7 FROM jobs WHERE id = $1
         ON CONFLICT (event_key) DO NOTHING
         RETURNING job_id
       ), applied AS (
         UPDATE job_decisions SET status = 'applied', decided_at = now() WHERE id = $10::uuid AND job_id = $1 AND status = 'confirmed'
       )
       UPDATE jobs SET events = events || jsonb_build_array($8::jsonb), approval = coalesce($9::jsonb, approval), updated_at = now()
       WHERE id = (SELECT job_id FROM logged)`,
      [
        e.jobId,
        e.actor,
        e.action,
        e.planHash,
        e.sourceIp ?? null,
        JSON.stringify({ ...(e.comment && { comment: e.comment }), ...e.details }),
        e.key,
        JSON.stringify(entry),
        approval && JSON.stringify(approval),
        e.decisionId ?? null,
      ],
    );
  };
