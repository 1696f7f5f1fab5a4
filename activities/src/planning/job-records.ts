import type pg from 'pg';
import type { RecordJobStatusInput, RecordStepResultsInput } from '@opsc/contracts';

/** Keeps the job row in step with the workflow; the workflow is the source of truth for state. */
export const createRecordJobStatus =
  (pool: pg.Pool) =>
  async (input: RecordJobStatusInput): Promise<void> => {
    const terminal = input.status === 'completed' || input.status === 'failed' || input.status === 'cancelled';
    // The outcome is audited in the same statement, and only when the status really changes, so a
    // retried activity does not audit twice.
    await pool.query(
      `WITH changed AS (
         UPDATE jobs SET status = $2, updated_at = now(),
           started_at = CASE WHEN $2 = 'running' THEN coalesce(started_at, now()) ELSE started_at END,
           finished_at = CASE WHEN $3 THEN now() ELSE finished_at END,
           error_type = $4, error_message = $5
         WHERE id = $1 AND status <> $2
         RETURNING id, tenant_id, plan_hash
       )
       INSERT INTO audit_log (tenant_id, actor, action, object_type, object_id, job_id, plan_hash)
       SELECT tenant_id, 'workflow', 'job.' || $2, 'job', id, id, plan_hash FROM changed WHERE $3`,
      [input.jobId, input.status, terminal, input.error?.type ?? null, input.error?.message ?? null],
    );
  };

/**
 * Records the workflow's verdict per step and target beside the output the executor stored.
 * An upsert: a verdict for a target the executor never reached (refused, unreachable) still lands.
 */
export const createRecordStepResults =
  (pool: pg.Pool) =>
  async ({ jobId, verdicts }: RecordStepResultsInput): Promise<void> => {
    if (verdicts.length === 0) return;
    await pool.query(
      `INSERT INTO step_results (job_id, step_id, target_id, target_name, status, error_type, error_message)
       SELECT $1, v.step_id, v.target_id, v.target_name, v.status, v.error_type, v.error_message
       FROM jsonb_to_recordset($2::jsonb) AS v(step_id text, target_id text, target_name text, status text,
                                               error_type text, error_message text)
       ON CONFLICT (job_id, step_id, target_id) DO UPDATE SET
         status = EXCLUDED.status, error_type = EXCLUDED.error_type, error_message = EXCLUDED.error_message`,
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
          })),
        ),
      ],
    );
  };
