import { randomUUID } from 'node:crypto';
import { MANUAL_ORIGIN, type JobMode, type JobOrigin, type PlanSummary, type RiskLevel } from '@opsc/contracts';
import { planHash } from '@opsc/contracts/plan-hash';
import { RUN_JOB_WORKFLOW } from '@opsc/contracts/temporal';
import { recordAudit } from '../audit.js';
import { Unavailable } from '../errors.js';
import { resolveJobTargets } from '../inventory/step-targets.js';
import type { Caller, JobDeps } from './deps.js';
import { checkExpectedHash, mainGroup, runJobInput, startOptions } from './job-input.js';
import { insertJob, markJobUnstarted, tenantSettings } from './job-store.js';
import { planningContext } from './planning-context.js';
import type { CreateJobBody } from '@opsc/contracts/api';
import { readyPlan } from './ready-plan.js';
import { currentTraceId } from '@opsc/telemetry/tracing';

/** A job with the fixed id asked for exists already (a retried start of a schedule's action). */
export class JobExists extends Error {
  constructor(readonly jobId: string) {
    super(`job ${jobId} exists already`);
  }
}

/** A job recorded and handed to Temporal. */
export interface SubmittedJob {
  id: string;
  planHash: string;
  risk: RiskLevel;
  approvalRequired: boolean;
  mode: JobMode;
  summary: PlanSummary | null;
  /** The trace of the request that submitted it (docs/tracing.md), or null when not traced. */
  traceId: string | null;
}

/**
 * Submits a job: the body becomes one executable plan through the one gate (ready-plan.ts), its
 * targets are resolved once, and the job is recorded (row and audit entry) before its workflow
 * starts. A workflow Temporal does not accept leaves the job recorded as failed. `origin` is what
 * started it, decided by the server (a retry, a template, a schedule, a trigger), never by the body.
 */
export const submitJob = async (
  deps: JobDeps,
  caller: Caller,
  body: CreateJobBody,
  origin: JobOrigin = MANUAL_ORIGIN,
  /** A job id decided by the caller (a schedule's action derives it); a second submission of it throws `JobExists`. */
  fixedId?: string,
): Promise<SubmittedJob> => {
  const ready = await readyPlan(planningContext(deps, caller.tenantId), body);
  const { plan } = ready;
  const hash = planHash(plan);
  checkExpectedHash(body.expectPlanHash, hash);
  const id = fixedId ?? `job-${randomUUID()}`;
  const requestedBy = caller.username;
  const quiet = deps.pools && ((pools: string[]) => deps.pools!.quiet(caller.tenantId, pools, { fresh: true }));
  const targets = await resolveJobTargets(deps.pool, caller.tenantId, plan, 'plan', quiet);
  const { risk } = ready;
  const mode = body.mode ?? 'run';
  // A check changes nothing: no approval, whatever the plan's risk (the executor runs only its checks).
  const approvalRequired = mode === 'check' ? false : ready.approvalRequired;
  const targetGroup = mainGroup(plan);
  const settings = await tenantSettings(deps.pool, caller.tenantId);
  const traceId = currentTraceId();
  await insertJob(deps.pool, {
    id,
    tenantId: caller.tenantId,
    plan,
    planHash: hash,
    requestedBy,
    targets,
    risk,
    targetGroup,
    request: ready.request,
    summary: ready.summary,
    origin,
    mode,
    traceId,
  }).catch((err: unknown) => {
    if ((err as { code?: string }).code === '23505' && fixedId) throw new JobExists(id);
    throw err;
  });
  await recordAudit(deps.pool, {
    tenantId: caller.tenantId,
    actor: requestedBy,
    action: 'job.submit',
    objectType: 'job',
    objectId: id,
    jobId: id,
    planHash: hash,
    sourceIp: caller.sourceIp,
    details: { risk, approvalRequired, targets: targets.targets.length, origin, mode },
  });
  const input = runJobInput(
    { id, tenantId: caller.tenantId, planHash: hash, requestedBy, targets, targetGroup, mode },
    ready,
    settings,
    deps.jobOptions,
  );
  try {
    await deps.client.workflow.start(RUN_JOB_WORKFLOW, startOptions(input, ready.summary, origin));
  } catch (err) {
    deps.log.error('job not started', { jobId: id, error: (err as Error).message });
    await markJobUnstarted(deps.pool, id, 'the workflow could not be started');
    throw new Unavailable('Temporal did not accept the job; it was recorded as failed');
  }
  deps.log.info('job started', {
    jobId: id,
    steps: plan.steps.length,
    targets: targets.targets.length,
    planHash: hash,
    approvalRequired,
  });
  return { id, planHash: hash, risk, approvalRequired, mode, summary: ready.summary, traceId };
};
