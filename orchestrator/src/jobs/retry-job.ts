import { randomUUID } from 'node:crypto';
import { currentTraceId } from '@opsc/telemetry/tracing';
import { isFinalJobStatus, type JobOrigin, type JobResume, type JobStatus, type RiskLevel } from '@opsc/contracts';
import type { JobRetry } from '@opsc/contracts/api';
import { planHash } from '@opsc/contracts/plan-hash';
import { RUN_JOB_WORKFLOW } from '@opsc/contracts/temporal';
import { recordAudit } from '../audit.js';
import { inTransaction, type Db } from '../db.js';
import { Conflict, Unavailable } from '../errors.js';
import type { Caller, JobDeps } from './deps.js';
import { runJobInput, startOptions } from './job-input.js';
import { insertJob, markJobUnstarted, tenantSettings, type JobRow } from './job-store.js';
import { jobOf } from './job-queries.js';
import { planningContext } from './planning-context.js';
import { readyPlan } from './ready-plan.js';
import { planRetry, type RecordedResult, type RetriedTarget, type RetryPlan } from './retry-plan.js';

/** Finished jobs that may be retried: they ran, and some target did not get through. */
const RETRYABLE = new Set(['failed', 'cancelled']);

/** A retry job recorded and handed to Temporal. */
export interface SubmittedRetry {
  id: string;
  planHash: string;
  risk: RiskLevel;
  approvalRequired: boolean;
  /** A retry always runs (a check-mode job is never retried). */
  mode: 'run';
  retryOf: string;
  rootJobId: string;
  retried: RetriedTarget[];
}

const recordedResults = async (db: Db, jobId: string): Promise<RecordedResult[]> =>
  (
    await db.query<{ step_id: string; target_id: string; status: string | null; facts: Record<string, string> | null }>(
      'SELECT step_id, target_id, status, facts FROM step_results WHERE job_id = $1',
      [jobId],
    )
  ).rows.map((r) => ({ stepId: r.step_id, targetId: r.target_id, status: r.status, facts: r.facts }));

/** What retrying `job` would run, from its record: null when nothing is left or it may not be retried. */
export const retryPlanOf = async (db: Db, job: JobRow): Promise<RetryPlan | null> => {
  if (!RETRYABLE.has(job.status) || job.mode === 'check') return null;
  return planRetry({
    id: job.id,
    plan: job.plan,
    targets: job.resolved_targets,
    resume: job.resume ?? null,
    rootJobId: job.root_job_id ?? null,
    results: await recordedResults(db, job.id),
  });
};

/** Why `job` cannot be retried now, or null (see `RETRYABLE`; one retry of a job at a time, and not after one ran). */
const refusal = async (db: Db, job: JobRow): Promise<string | null> => {
  if (!isFinalJobStatus(job.status)) return `job ${job.id} is still ${job.status}; retry it once it has finished`;
  if (job.status === 'completed') return `job ${job.id} completed on every target; nothing to retry`;
  if (job.status === 'rejected') return `job ${job.id} was rejected and never ran; submit its plan again instead`;
  // A check changed nothing: there is nothing to resume, and its retry must not turn into the change.
  if (job.mode === 'check') return `job ${job.id} ran in check mode and changed nothing; run the check again instead`;
  // A retry that was rejected never ran: the job may be retried again. Any other stands.
  const { rows } = await db.query<{ id: string; status: string }>(
    `SELECT id, status FROM jobs WHERE retry_of = $1 AND status <> 'rejected' ORDER BY created_at DESC LIMIT 1`,
    [job.id],
  );
  const earlier = rows[0];
  if (!earlier) return null;
  return isFinalJobStatus(earlier.status)
    ? `job ${job.id} was retried already as ${earlier.id} (${earlier.status}); retry that job instead, so no step runs twice`
    : `job ${job.id} is being retried already as ${earlier.id} (${earlier.status})`;
};

/**
 * Retries a finished job: a new job, linked to it, over only the targets that did not get through
 * its steps, each starting where it stopped (`planRetry`), with the same plan and plan hash. The
 * plan passes the server's checks again and the job is approved like any job of that plan. The
 * original's row is locked while the retry is recorded, so two retries of one job cannot both land.
 */
export const retryJob = async (
  deps: JobDeps,
  caller: Caller,
  id: string,
  comment?: string,
): Promise<SubmittedRetry> => {
  const original = await jobOf(deps, caller.tenantId, id);
  const ready = await readyPlan(planningContext(deps, caller.tenantId), { plan: original.plan });
  if (planHash(ready.plan) !== original.plan_hash)
    throw new Conflict(
      `the plan of job ${id} no longer passes the checks unchanged (the catalog or policy changed); submit it again`,
    );
  const settings = await tenantSettings(deps.pool, caller.tenantId);
  const newId = `job-${randomUUID()}`;
  const origin: JobOrigin = { kind: 'retry', jobId: id };
  const recorded = await inTransaction(deps.pool, async (db) => {
    const locked = (
      await db.query<JobRow>('SELECT * FROM jobs WHERE id = $1 AND tenant_id = $2 FOR UPDATE', [id, caller.tenantId])
    ).rows[0]!;
    const why = await refusal(db, locked);
    if (why) throw new Conflict(why);
    const retry = await retryPlanOf(db, locked);
    if (!retry) throw new Conflict(`every target of job ${id} got through its steps; nothing to retry`);
    await insertJob(db, {
      id: newId,
      tenantId: caller.tenantId,
      plan: locked.plan,
      planHash: locked.plan_hash,
      requestedBy: caller.username,
      targets: retry.targets,
      risk: ready.risk,
      targetGroup: locked.target_group,
      request: locked.request,
      summary: locked.summary,
      origin,
      mode: 'run',
      retry: { of: locked.id, resume: retry.resume },
      traceId: currentTraceId(),
    });
    await recordAudit(db, {
      tenantId: caller.tenantId,
      actor: caller.username,
      action: 'job.retry',
      objectType: 'job',
      objectId: newId,
      jobId: newId,
      planHash: locked.plan_hash,
      ...(caller.sourceIp && { sourceIp: caller.sourceIp }),
      details: {
        retryOf: locked.id,
        rootJobId: retry.resume.rootJobId,
        risk: ready.risk,
        approvalRequired: ready.approvalRequired,
        origin,
        targets: retry.retried.length,
        from: retry.retried.slice(0, 50).map((r) => ({ target: r.target, step: r.stepId })),
        ...(comment && { comment }),
      },
    });
    return { job: locked, retry };
  });
  const { job, retry } = recorded;
  const input = {
    ...runJobInput(
      {
        id: newId,
        tenantId: caller.tenantId,
        planHash: job.plan_hash,
        requestedBy: caller.username,
        targets: retry.targets,
        targetGroup: job.target_group,
        mode: 'run',
      },
      { ...ready, plan: job.plan },
      settings,
      deps.jobOptions,
    ),
    resume: retry.resume satisfies JobResume,
  };
  try {
    await deps.client.workflow.start(RUN_JOB_WORKFLOW, startOptions(input, job.summary, origin));
  } catch (err) {
    deps.log.error('retry job not started', { jobId: newId, error: (err as Error).message });
    await markJobUnstarted(deps.pool, newId, 'the workflow could not be started');
    throw new Unavailable('Temporal did not accept the retry job; it was recorded as failed');
  }
  deps.log.info('retry job started', { jobId: newId, retryOf: job.id, targets: retry.retried.length });
  return {
    id: newId,
    planHash: job.plan_hash,
    risk: ready.risk,
    approvalRequired: ready.approvalRequired,
    mode: 'run',
    retryOf: job.id,
    rootJobId: retry.resume.rootJobId,
    retried: retry.retried,
  };
};

/** How `job` is linked to its retries, and what a retry of it would run now (the job page shows it before anyone clicks). */
export const retryView = async (db: Db, job: JobRow): Promise<JobRetry> => {
  const { rows } = await db.query<{ id: string; status: JobStatus }>(
    'SELECT id, status FROM jobs WHERE retry_of = $1 ORDER BY created_at',
    [job.id],
  );
  const why = await refusal(db, job);
  const plan = why === null ? await retryPlanOf(db, job) : null;
  return {
    retryOf: job.retry_of ?? null,
    rootJobId: job.root_job_id ?? null,
    retriedAs: rows,
    available: plan?.retried ?? [],
    unavailable: why ?? (plan ? null : `every target of job ${job.id} got through its steps; nothing to retry`),
    resume: job.resume ?? null,
  };
};
