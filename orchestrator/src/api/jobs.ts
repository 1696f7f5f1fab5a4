import { randomUUID } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { ApplicationFailure, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import {
  ErrorType,
  isFinalJobStatus,
  TaskQueue,
  type DecisionAction,
  type JobProgress,
  type Plan,
  type RunJobInput,
} from '@opsc/contracts';
import { planHash } from '@opsc/contracts/plan-hash';
import {
  RUN_JOB_WORKFLOW,
  SearchAttribute,
  approveUpdate,
  cancelUpdate,
  decideUpdate,
  pauseUpdate,
  progressQuery,
  rejectUpdate,
  resumeUpdate,
  type ControlAnswer,
} from '@opsc/contracts/temporal';
import { resolveJobTargets } from '../inventory/step-targets.js';
import { withTimeout } from '../with-timeout.js';
import type { ApiDeps } from './deps.js';
import { recordAudit } from '../audit.js';
import { principalOf, requireRole } from './auth.js';
import { ApiFailure } from './errors.js';
import { parseBody, parseQuery } from './validate.js';
import { readyPlan } from './ready-plan.js';
import {
  ApproveBody,
  CancelBody,
  ControlBody,
  DecideBody,
  JobListQuery as ListQuery,
  RejectBody,
  ResultsQuery,
  createJobSchema,
  type ControlAnswer as ControlAnswerView,
  type JobCreated,
  type JobDetail,
  type JobList,
  type Sent,
  type StepResultPage,
  type StepResultView,
} from '@opsc/contracts/api';
import { jobEventsHandler } from './job-events.js';
import { abandonDecision, recordDecision } from './decision-store.js';
import { findJob, findStepResults, insertJob, listJobs, markJobUnstarted, tenantSettings, type JobRow, type StepResultCursor, type StepResultRow } from './job-store.js';

const Cursor = z.tuple([z.number().int().min(1), z.string(), z.string()]);
const encodeCursor = (c: StepResultCursor): string => Buffer.from(JSON.stringify(c)).toString('base64url');
const decodeCursor = (text: string): StepResultCursor => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const c = Cursor.safeParse(parsed);
  if (!c.success) throw new ApiFailure(ErrorType.ValidationFailed, 'invalid filter', [{ path: 'query.after', message: 'is not a cursor from an earlier page (pass next.after as it came)' }]);
  return c.data;
};

const JOB_ID = /^job-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A query needs a live orchestrator worker; do not hang the API when there is none. */
const QUERY_TIMEOUT_MS = 3_000;
/** An update waits for the workflow to take it (and record it); past this the API answers 503. */
const UPDATE_TIMEOUT_MS = 15_000;

const resultView = (r: StepResultRow): Sent<StepResultView> => ({
  stepId: r.step_id,
  target: { id: r.target_id, name: r.target_name },
  status: r.status,
  attempt: r.attempt,
  method: r.method,
  exitCode: r.exit_code,
  signal: r.signal,
  httpStatus: r.http_status,
  stdout: r.stdout,
  stderr: r.stderr,
  stdoutTruncated: r.stdout_truncated,
  stderrTruncated: r.stderr_truncated,
  // bigint columns arrive as strings.
  stdoutBytes: r.stdout_bytes === null ? null : Number(r.stdout_bytes),
  stderrBytes: r.stderr_bytes === null ? null : Number(r.stderr_bytes),
  facts: r.facts,
  error: r.error_type ? { type: r.error_type, message: r.error_message } : null,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
});

/** The group most of the plan's steps act on, for search and history filters. */
const mainGroup = (plan: Plan): string | null => plan.steps.find((s) => s.targets?.group)?.targets?.group ?? null;

/** Maps a refused or failed update to the API's answer, with the workflow's own reason. */
const updateFailure = (err: unknown): ApiFailure => {
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
    const type = (Object.values(ErrorType) as string[]).includes(err.cause.type ?? '') ? (err.cause.type as ErrorType) : ErrorType.Conflict;
    return new ApiFailure(type, err.cause.message);
  }
  if (err instanceof WorkflowNotFoundError || (err as Error).name === 'WorkflowNotFoundError') return new ApiFailure(ErrorType.Conflict, 'the job has finished');
  if ((err as Error).message?.includes('workflow execution already completed')) return new ApiFailure(ErrorType.Conflict, 'the job has finished');
  if ((err as Error).message?.startsWith('update took longer')) return new ApiFailure(ErrorType.Unavailable, 'the job did not take the request in time (is an orchestrator worker running?)');
  return new ApiFailure(ErrorType.Unavailable, `the job could not take the request: ${(err as Error).message}`);
};

export const jobsRouter = (deps: ApiDeps): Router => {
  const router = Router();
  const uiLink = (id: string) =>
    deps.temporalUiUrl ? `${deps.temporalUiUrl}/namespaces/${encodeURIComponent(deps.namespace)}/workflows/${id}` : null;

  const jobOf = async (id: string, res: Response): Promise<JobRow> => {
    if (!JOB_ID.test(id)) throw new ApiFailure(ErrorType.NotFound, `no job ${id}`);
    // Another tenant's job answers exactly like a missing one.
    const job = await findJob(deps.pool, id, principalOf(res).tenantId);
    if (!job) throw new ApiFailure(ErrorType.NotFound, `no job ${id}`);
    return job;
  };

  router.post('/', requireRole('operator'), async (req, res) => {
    const principal = principalOf(res);
    const body = parseBody(createJobSchema(req.body), req);
    const ready = await readyPlan(deps, principal.tenantId, body);
    const { plan } = ready;
    const hash = planHash(plan);
    if (body.expectPlanHash && body.expectPlanHash !== hash) {
      throw new ApiFailure(ErrorType.Conflict, `the plan is no longer the one shown (hash ${body.expectPlanHash.slice(0, 12)}…, now ${hash.slice(0, 12)}…): the inventory or catalog changed; review it again`);
    }
    const id = `job-${randomUUID()}`;
    const requestedBy = principal.username;
    const targets = await resolveJobTargets(deps.pool, principal.tenantId, plan);
    const { risk, approvalRequired } = ready;
    const targetGroup = mainGroup(plan);
    const settings = await tenantSettings(deps.pool, principal.tenantId);
    await insertJob(deps.pool, { id, tenantId: principal.tenantId, plan, planHash: hash, requestedBy, targets, risk, targetGroup, request: ready.request, summary: ready.summary });
    await recordAudit(deps.pool, { tenantId: principal.tenantId, actor: requestedBy, action: 'job.submit', objectType: 'job', objectId: id, jobId: id, planHash: hash, sourceIp: req.ip, details: { risk, approvalRequired, targets: targets.targets.length } });
    const input: RunJobInput = {
      jobId: id,
      tenantId: principal.tenantId,
      plan,
      planHash: hash,
      risk,
      targetGroup,
      ...targets,
      requestedBy,
      approval: { required: approvalRequired, reasons: ready.approvalReasons, fourEyes: settings.fourEyes, timeoutSeconds: settings.approvalTimeoutSeconds },
      options: deps.jobOptions,
    };
    try {
      await deps.client.workflow.start(RUN_JOB_WORKFLOW, {
        workflowId: id,
        taskQueue: TaskQueue.orchestrator,
        args: [input],
        typedSearchAttributes: [
          { key: SearchAttribute.jobId, value: id },
          { key: SearchAttribute.tenant, value: principal.tenantId },
          { key: SearchAttribute.requester, value: requestedBy },
          { key: SearchAttribute.risk, value: risk },
          { key: SearchAttribute.status, value: 'queued' },
          ...(targetGroup ? [{ key: SearchAttribute.targetGroup, value: targetGroup }] : []),
        ],
        memo: {
          name: plan.name,
          planHash: hash,
          risk,
          approvalRequired,
          steps: plan.steps.map((s) => s.name),
          targets: targets.targets.length,
          ...(ready.summary && { summary: ready.summary.bullets }),
        },
      });
    } catch (err) {
      deps.log.error('job not started', { jobId: id, error: (err as Error).message });
      await markJobUnstarted(deps.pool, id, 'the workflow could not be started');
      throw new ApiFailure(ErrorType.Unavailable, 'Temporal did not accept the job; it was recorded as failed');
    }
    deps.log.info('job started', { jobId: id, steps: plan.steps.length, targets: targets.targets.length, planHash: hash, approvalRequired });
    res.status(201).json({
      id,
      status: 'queued',
      planHash: hash,
      risk,
      approvalRequired,
      summary: ready.summary,
      links: { self: `/api/jobs/${id}`, events: `/api/jobs/${id}/events`, results: `/api/jobs/${id}/results`, temporalUi: uiLink(id) },
    } satisfies Sent<JobCreated>);
  });

  router.get('/', async (req, res) => {
    const f = parseQuery(ListQuery, req);
    const rows = await listJobs(deps.pool, principalOf(res).tenantId, {
      limit: f.limit,
      ...(f.status && { status: f.status }),
      ...(f.requester && { requester: f.requester }),
      ...(f.group && { group: f.group }),
      ...(f.since && { since: new Date(f.since) }),
      ...(f.until && { until: new Date(f.until) }),
      ...(f.before && { before: new Date(f.before) }),
      ...(f.q && { text: f.q }),
    });
    const last = rows.at(-1);
    res.json({
      jobs: rows.map((r) => ({
        id: r.id,
        name: r.name,
        status: r.status,
        risk: r.risk,
        requestedBy: r.requested_by,
        targetGroup: r.target_group,
        targets: r.target_count,
        createdAt: r.created_at,
        startedAt: r.started_at,
        finishedAt: r.finished_at,
        durationSeconds: r.started_at && r.finished_at ? (r.finished_at.getTime() - r.started_at.getTime()) / 1000 : null,
        outcome: r.outcome,
        approval: r.approval,
      })),
      next: rows.length === f.limit && last ? { before: last.created_at.toISOString() } : null,
    } satisfies Sent<JobList>);
  });

  router.get('/:id', async (req, res) => {
    let job = await jobOf(req.params.id, res);
    const id = job.id;
    let progress: JobProgress | null = null;
    let progressError: string | null = null;
    try {
      progress = await withTimeout(deps.client.workflow.getHandle(id).query(progressQuery), QUERY_TIMEOUT_MS, 'progress query');
    } catch (err) {
      progressError = (err as Error).message;
    }
    // The workflow shows its end only after writing it, but the row was read before the query:
    // read it again so status, outcome and finish time agree.
    if (progress && isFinalJobStatus(progress.status) && !isFinalJobStatus(job.status)) job = await jobOf(id, res);
    res.json({
      id: job.id,
      name: job.name,
      // A final record wins: a workflow closed from outside still answers its query with the
      // state it was in (awaiting approval, running), and reconciliation recorded the truth.
      status: isFinalJobStatus(job.status) ? job.status : (progress?.status ?? job.status),
      planHash: job.plan_hash,
      risk: job.risk,
      requestedBy: job.requested_by,
      targetGroup: job.target_group,
      request: job.request,
      summary: job.summary,
      createdAt: job.created_at,
      startedAt: job.started_at,
      finishedAt: job.finished_at,
      error: job.error_type ? { type: job.error_type, message: job.error_message } : null,
      approval: job.approval,
      events: job.events,
      outcome: job.outcome,
      plan: job.plan,
      targets: job.resolved_targets.targets,
      progress,
      progressError,
      links: { self: `/api/jobs/${id}`, events: `/api/jobs/${id}/events`, results: `/api/jobs/${id}/results`, temporalUi: uiLink(id) },
    } satisfies Sent<JobDetail>);
  });

  // The per-target results with their full stored output, a page at a time: a job over a thousand
  // targets has thousands of them, too many for the job's own answer.
  router.get('/:id/results', async (req, res) => {
    const f = parseQuery(ResultsQuery, req);
    const after = f.after === undefined ? undefined : decodeCursor(f.after);
    const job = await jobOf(req.params.id, res);
    const rows = await findStepResults(deps.pool, job.id, {
      stepOrder: job.plan.steps.map((s) => s.id),
      limit: f.limit,
      ...(f.target !== undefined && { target: f.target }),
      ...(f.step !== undefined && { step: f.step }),
      ...(f.status && { status: f.status }),
      ...(after && { after }),
    });
    const last = rows.at(-1);
    res.json({
      results: rows.map(resultView),
      next: rows.length === f.limit && last ? { after: encodeCursor([last.ord, last.target_name, last.target_id]) } : null,
    } satisfies Sent<StepResultPage>);
  });

  router.get('/:id/events', async (req, res) => {
    const job = await jobOf(req.params.id, res);
    await jobEventsHandler(deps, job, req, res);
  });

  const updates = { approve: approveUpdate, reject: rejectUpdate, pause: pauseUpdate, resume: resumeUpdate, cancel: cancelUpdate, decide: decideUpdate } as const;

  /**
   * Records the caller's decision (and its audit entry), then sends its id to the job's workflow,
   * which confirms the record through an activity and checks the rules against it.
   */
  const control = async (
    req: Request,
    res: Response,
    action: DecisionAction,
    fields: { planHash?: string; comment?: string | undefined; mode?: 'finish' | 'interrupt'; choice?: 'continue' | 'rollback' },
  ): Promise<void> => {
    const job = await jobOf(String(req.params.id), res);
    const principal = principalOf(res);
    const decisionId = await recordDecision(deps.pool, {
      jobId: job.id,
      tenantId: principal.tenantId,
      userId: principal.userId,
      actor: principal.username,
      role: principal.role,
      action,
      planHash: fields.planHash ?? job.plan_hash,
      comment: fields.comment || null,
      mode: fields.mode ?? null,
      choice: fields.choice ?? null,
      sourceIp: req.ip ?? null,
    });
    let answer: ControlAnswer;
    try {
      answer = await withTimeout(deps.client.workflow.getHandle(job.id).executeUpdate(updates[action], { args: [{ decisionId }] }), UPDATE_TIMEOUT_MS, 'update');
    } catch (err) {
      const failure = updateFailure(err);
      // Refused before the workflow took it up (or the job is over): closed with the reason, never to
      // be used later. Not when the workflow did not answer in time: it may still take it up.
      if (failure.type !== ErrorType.Unavailable) await abandonDecision(deps.pool, decisionId, failure.message);
      throw failure;
    }
    deps.log.info('job control', { jobId: job.id, action, decisionId, by: principal.username, status: answer.status, message: answer.message });
    res.json(answer satisfies ControlAnswerView);
  };

  router.post('/:id/approve', requireRole('approver'), async (req, res) => {
    const body = parseBody(ApproveBody, req);
    await control(req, res, 'approve', { planHash: body.planHash, comment: body.comment });
  });
  router.post('/:id/reject', requireRole('operator'), async (req, res) => {
    await control(req, res, 'reject', parseBody(RejectBody, req));
  });
  router.post('/:id/pause', requireRole('operator'), async (req, res) => {
    await control(req, res, 'pause', parseBody(ControlBody, req));
  });
  router.post('/:id/resume', requireRole('operator'), async (req, res) => {
    await control(req, res, 'resume', parseBody(ControlBody, req));
  });
  router.post('/:id/cancel', requireRole('operator'), async (req, res) => {
    await control(req, res, 'cancel', parseBody(CancelBody, req));
  });
  router.post('/:id/decide', requireRole('operator'), async (req, res) => {
    await control(req, res, 'decide', parseBody(DecideBody, req));
  });
  return router;
};
