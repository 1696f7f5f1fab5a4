import type pg from 'pg';
import type { ActionContext, ErrorType } from '@opsc/contracts';

/** The full record of one attempt of one step on one target, as the executor stores it. */
export interface ExecutionRecord {
  context: ActionContext;
  attempt: number;
  method: string;
  exitCode?: number | null;
  signal?: string | null;
  httpStatus?: number;
  stdout: string;
  stderr: string;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  /** Bytes the command really wrote (the stored text may be capped). */
  stdoutBytes?: number;
  stderrBytes?: number;
  facts?: Record<string, string>;
  error?: { type: ErrorType; message: string };
  startedAt: Date;
  finishedAt: Date;
}

/** Where the executor keeps full output; history only gets a capped copy. */
export interface OutputStore {
  /**
   * Keyed by job, step and target: a retried attempt replaces the earlier one, so a result is recorded
   * once. Idempotent, and a late save of an earlier attempt (kept while PostgreSQL was away) never
   * replaces a later attempt's record nor the workflow's verdict.
   */
  saveResult(record: ExecutionRecord): Promise<void>;
}

export const createPgOutputStore = (pool: pg.Pool): OutputStore => ({
  async saveResult(r) {
    await pool.query(
      `INSERT INTO step_results (job_id, step_id, target_id, target_name, attempt, method, exit_code, signal,
         http_status, stdout, stderr, stdout_truncated, stderr_truncated, error_type, error_message, started_at, finished_at,
         stdout_bytes, stderr_bytes, facts, rerun)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21)
       ON CONFLICT (job_id, step_id, target_id) DO UPDATE SET
         -- A re-run's first record: the earlier run's verdict is not this run's.
         status = CASE WHEN step_results.rerun < EXCLUDED.rerun THEN NULL ELSE step_results.status END,
         rerun = EXCLUDED.rerun,
         attempt = EXCLUDED.attempt, method = EXCLUDED.method, exit_code = EXCLUDED.exit_code,
         signal = EXCLUDED.signal, http_status = EXCLUDED.http_status, stdout = EXCLUDED.stdout,
         stderr = EXCLUDED.stderr, stdout_truncated = EXCLUDED.stdout_truncated,
         stderr_truncated = EXCLUDED.stderr_truncated, started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at,
         -- The workflow's verdict, once there, keeps its own reason.
         error_type = CASE WHEN step_results.status IS NULL OR step_results.rerun < EXCLUDED.rerun THEN EXCLUDED.error_type ELSE step_results.error_type END,
         error_message = CASE WHEN step_results.status IS NULL OR step_results.rerun < EXCLUDED.rerun THEN EXCLUDED.error_message ELSE step_results.error_message END,
         stdout_bytes = EXCLUDED.stdout_bytes, stderr_bytes = EXCLUDED.stderr_bytes, facts = EXCLUDED.facts
       WHERE step_results.rerun < EXCLUDED.rerun
          OR (step_results.rerun = EXCLUDED.rerun AND (step_results.attempt IS NULL OR step_results.attempt <= EXCLUDED.attempt))`,
      [
        r.context.jobId,
        r.context.stepId,
        r.context.target.id,
        r.context.target.name,
        r.attempt,
        r.method,
        r.exitCode ?? null,
        r.signal ?? null,
        r.httpStatus ?? null,
        r.stdout,
        r.stderr,
        r.stdoutTruncated,
        r.stderrTruncated,
        r.error?.type ?? null,
        r.error?.message ?? null,
        r.startedAt,
        r.finishedAt,
        r.stdoutBytes ?? Buffer.byteLength(r.stdout),
        r.stderrBytes ?? Buffer.byteLength(r.stderr),
        r.facts ? JSON.stringify(r.facts) : null,
        r.context.rerun ?? 0,
      ],
    );
  },
});
