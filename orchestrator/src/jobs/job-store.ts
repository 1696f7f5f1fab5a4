import type { JobTargets } from '../inventory/step-targets.js';
import type pg from 'pg';
import {
  planTitle,
  type JobMode,
  type JobOrigin,
  type JobResume,
  type JobStatus,
  type Plan,
  type PlanSummary,
  type RiskLevel,
} from '@opsc/contracts';
import type { JobApproval, JobEventEntry, JobOutcome } from '@opsc/contracts/api';

export interface JobRow {
  id: string;
  name: string;
  plan: Plan;
  plan_hash: string;
  resolved_targets: JobTargets;
  requested_by: string;
  status: JobStatus;
  risk: RiskLevel;
  target_group: string | null;
  request: string | null;
  summary: PlanSummary | null;
  approval: JobApproval | null;
  events: JobEventEntry[];
  outcome: JobOutcome | null;
  origin: unknown;
  mode: JobMode;
  updated_at: Date;
  error_type: string | null;
  error_message: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  /** A retry job only (see `JobResume`); absent before migration 013. */
  retry_of?: string | null;
  root_job_id?: string | null;
  resume?: JobResume | null;
  /** The trace the job was submitted in; absent before migration 027. */
  trace_id?: string | null;
}

export interface StepResultRow {
  step_id: string;
  target_id: string;
  target_name: string;
  status: string | null;
  attempt: number | null;
  rerun: number;
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

export interface NewJob {
  id: string;
  tenantId: string;
  plan: Plan;
  planHash: string;
  requestedBy: string;
  targets: JobTargets;
  risk: RiskLevel;
  targetGroup: string | null;
  request: string | null;
  summary: PlanSummary | null;
  origin: JobOrigin;
  mode: JobMode;
  /** A retry: the job it retries and where each of its targets resumes (docs/retry.md). */
  retry?: { of: string; resume: JobResume };
  /** The trace of the request that submitted it (docs/tracing.md), or null when not traced. */
  traceId?: string | null;
}

export const insertJob = async (db: pg.Pool | pg.PoolClient, job: NewJob): Promise<void> => {
  await db.query(
    `INSERT INTO jobs (id, tenant_id, name, plan, plan_hash, requested_by, status, resolved_targets, risk, target_group,
                       request, summary, origin, mode, retry_of, root_job_id, resume, trace_id)
     VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
    [
      job.id,
      job.tenantId,
      // The job's name is its title: the plan's, or a summary of it when its name is the raw request.
      planTitle(job.plan, job.request),
      JSON.stringify(job.plan),
      job.planHash,
      job.requestedBy,
      JSON.stringify(job.targets),
      job.risk,
      job.targetGroup,
      job.request,
      job.summary && JSON.stringify(job.summary),
      JSON.stringify(job.origin),
      job.mode,
      job.retry?.of ?? null,
      job.retry?.resume.rootJobId ?? null,
      job.retry ? JSON.stringify(job.retry.resume) : null,
      job.traceId ?? null,
    ],
  );
};

export interface JobFilter {
  status?: string[];
  requester?: string;
  group?: string;
  since?: Date;
  until?: Date;
  text?: string;
  /** Jobs created before this one (its created_at), for the next page. */
  before?: Date;
  limit: number;
}

export interface JobListRow {
  id: string;
  name: string;
  status: JobStatus;
  risk: RiskLevel;
  requested_by: string;
  target_group: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  target_count: number;
  outcome: JobOutcome | null;
  approval: JobApproval | null;
  origin: unknown;
  mode: JobMode;
}

/** A tenant's jobs, newest first, filtered; the plan and results stay out of the list. */
export const listJobs = async (pool: pg.Pool, tenantId: string, f: JobFilter): Promise<JobListRow[]> => {
  const where = ['tenant_id = $1'];
  const values: unknown[] = [tenantId];
  const add = (sql: string, value: unknown) => {
    values.push(value);
    where.push(sql.replaceAll('?', `$${values.length}`));
  };
  if (f.status?.length) add('status = ANY(?)', f.status);
  if (f.requester) add('requested_by = ?', f.requester);
  if (f.group) add('target_group = ?', f.group);
  if (f.since) add('created_at >= ?', f.since);
  if (f.until) add('created_at < ?', f.until);
  if (f.before) add('created_at < ?', f.before);
  if (f.text)
    add(
      `(name ILIKE '%' || ? || '%' OR request ILIKE '%' || ? || '%')`,
      f.text.replace(/[\\%_]/g, (c) => `\\${c}`),
    );
  values.push(f.limit);
  return (
    await pool.query<JobListRow>(
      `SELECT id, name, status, risk, requested_by, target_group, created_at, started_at, finished_at,
              jsonb_array_length(resolved_targets->'targets') AS target_count, outcome, approval, origin, mode
       FROM jobs WHERE ${where.join(' AND ')} ORDER BY created_at DESC LIMIT $${values.length}`,
      values,
    )
  ).rows;
};

export interface TenantSettings {
  fourEyes: boolean;
  approvalTimeoutSeconds: number;
}

export const tenantSettings = async (pool: pg.Pool, tenantId: string): Promise<TenantSettings> => {
  const row = (
    await pool.query<{ four_eyes: boolean; approval_timeout_seconds: number }>(
      'SELECT four_eyes, approval_timeout_seconds FROM tenants WHERE id = $1',
      [tenantId],
    )
  ).rows[0];
  return { fourEyes: row?.four_eyes ?? true, approvalTimeoutSeconds: row?.approval_timeout_seconds ?? 86_400 };
};

export const saveTenantSettings = async (pool: pg.Pool, tenantId: string, s: TenantSettings): Promise<void> => {
  await pool.query('UPDATE tenants SET four_eyes = $2, approval_timeout_seconds = $3 WHERE id = $1', [
    tenantId,
    s.fourEyes,
    s.approvalTimeoutSeconds,
  ]);
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

export interface StepResultFilter {
  /** The plan's step ids in order: results come step by step, each step's undo rows right after it. */
  stepOrder: readonly string[];
  target?: string;
  /** A step id, or `<id>.rollback` for its undo actions. */
  step?: string;
  /** Verdicts; 'pending' for a row the workflow has not judged yet (the step still runs). */
  status?: readonly ('succeeded' | 'failed' | 'skipped' | 'pending')[];
  /** The position after which the page starts: the last row of the previous page. */
  after?: StepResultCursor;
  limit: number;
}

/** Where a row sits in the order of a job's results: step position, target name, target id. */
export type StepResultCursor = readonly [number, string, string];

export interface OrderedStepResultRow extends StepResultRow {
  ord: number;
}

/**
 * One page of a job's results in plan order (a step's rows by target name, then its undo rows), with
 * their full stored output. The order only depends on what a row is, never on when it ran, so
 * paging through a running job neither skips nor repeats a row.
 */
export const findStepResults = async (
  pool: pg.Pool,
  jobId: string,
  f: StepResultFilter,
): Promise<OrderedStepResultRow[]> => {
  const order = f.stepOrder.flatMap((id) => [id, `${id}.rollback`]);
  const values: unknown[] = [jobId, order];
  const where: string[] = [];
  const add = (sql: string, ...params: unknown[]) => {
    let text = sql;
    for (const p of params) {
      values.push(p);
      text = text.replace('?', `$${values.length}`);
    }
    where.push(text);
  };
  if (f.target !== undefined) add('target_name = ?', f.target);
  if (f.step !== undefined) add('step_id = ?', f.step);
  if (f.status?.length) {
    const verdicts = f.status.filter((x) => x !== 'pending');
    add(`(status = ANY(?)${f.status.includes('pending') ? ' OR status IS NULL' : ''})`, verdicts);
  }
  if (f.after) add('(ord, target_name, target_id) > (?::int, ?, ?)', ...f.after);
  values.push(f.limit);
  return (
    await pool.query<OrderedStepResultRow>(
      `SELECT * FROM (
         SELECT step_id, target_id, target_name, status, attempt, rerun, method, exit_code, signal, http_status, stdout, stderr,
                stdout_truncated, stderr_truncated, stdout_bytes, stderr_bytes, facts, error_type, error_message, started_at, finished_at,
                COALESCE(array_position($2::text[], step_id), 2147483647) AS ord
         FROM step_results WHERE job_id = $1
       ) r
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY ord, target_name, target_id LIMIT $${values.length}`,
      values,
    )
  ).rows;
};
