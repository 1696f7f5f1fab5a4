import type { JobTargets } from '../inventory/step-targets.js';
import type pg from 'pg';
import type { Plan } from '@opsc/contracts';

export interface JobRow {
  id: string;
  name: string;
  plan: Plan;
  plan_hash: string;
  resolved_targets: JobTargets;
  requested_by: string;
  status: string;
  error_type: string | null;
  error_message: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

export interface StepResultRow {
  step_id: string;
  target_id: string;
  target_name: string;
  status: string | null;
  attempt: number | null;
  method: string | null;
  exit_code: number | null;
  signal: string | null;
  http_status: number | null;
  stdout: string | null;
  stderr: string | null;
  stdout_truncated: boolean | null;
  stderr_truncated: boolean | null;
  stdout_bytes: string | null;
  stderr_bytes: string | null;
  facts: Record<string, string> | null;
  error_type: string | null;
  error_message: string | null;
  started_at: Date | null;
  finished_at: Date | null;
}

export const insertJob = async (
  pool: pg.Pool,
  job: { id: string; tenantId: string; plan: Plan; planHash: string; requestedBy: string; targets: JobTargets },
): Promise<void> => {
  await pool.query(
    `INSERT INTO jobs (id, tenant_id, name, plan, plan_hash, requested_by, status, resolved_targets) VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7)`,
    [job.id, job.tenantId, job.plan.name, JSON.stringify(job.plan), job.planHash, job.requestedBy, JSON.stringify(job.targets)],
  );
};

export const markJobUnstarted = async (pool: pg.Pool, id: string, message: string): Promise<void> => {
  await pool.query(
    `UPDATE jobs SET status = 'failed', error_type = 'Unavailable', error_message = $2, finished_at = now(), updated_at = now()
     WHERE id = $1`,
    [id, message],
  );
};

export const findJob = async (pool: pg.Pool, id: string, tenantId: string): Promise<JobRow | undefined> =>
  (await pool.query<JobRow>('SELECT * FROM jobs WHERE id = $1 AND tenant_id = $2', [id, tenantId])).rows[0];

export const findStepResults = async (pool: pg.Pool, id: string): Promise<StepResultRow[]> =>
  (
    await pool.query<StepResultRow>(
      `SELECT step_id, target_id, target_name, status, attempt, method, exit_code, signal, http_status, stdout, stderr,
              stdout_truncated, stderr_truncated, stdout_bytes, stderr_bytes, facts, error_type, error_message, started_at, finished_at
       FROM step_results WHERE job_id = $1 ORDER BY started_at NULLS LAST, step_id, target_name`,
      [id],
    )
  ).rows;
