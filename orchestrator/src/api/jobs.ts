import { Router, type Request, type Response } from 'express';
import { isFinalJobStatus, readOrigin, type DecisionAction } from '@opsc/contracts';
import {
  ApproveBody,
  CancelBody,
  ControlBody,
  DecideBody,
  JobListQuery as ListQuery,
  RejectBody,
  ResultsQuery,
  RetryBody,
  createJobSchema,
  type ControlAnswer,
  type JobDetail,
  type JobList,
  type RetryCreated,
  type Sent,
  type StepResultPage,
  type StepResultView,
} from '@opsc/contracts/api';
import { jobNotifications } from './notification-routes.js';
import type { ApiDeps } from './deps.js';
import { callerOf, principalOf, requireRole } from './auth.js';
import { parseBody, parseQuery } from './validate.js';
import { createdJob, jobLinks } from './created-job.js';
import { jobEventsHandler } from './job-events.js';
import { controlJob, type DecisionFields } from '../jobs/job-control.js';
import { jobDetail, jobList, jobOf, jobResults } from '../jobs/job-queries.js';
import type { StepResultRow } from '../jobs/job-store.js';
import { encodeCursor } from '../jobs/result-cursor.js';
import { retryJob, retryView } from '../jobs/retry-job.js';
import { submitJob } from '../jobs/submit-job.js';

const resultView = (r: StepResultRow): Sent<StepResultView> => ({
  stepId: r.step_id,
  target: { id: r.target_id, name: r.target_name },
  status: r.status,
  attempt: r.attempt,
  rerun: r.rerun,
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

export const jobsRouter = (deps: ApiDeps): Router => {
  const router = Router();
  router.post('/', requireRole('operator'), async (req, res) => {
    const body = parseBody(createJobSchema(req.body), req);
    res.status(201).json(createdJob(deps, await submitJob(deps, callerOf(req, res), body)));
  });

  router.get('/', async (req, res) => {
    const f = parseQuery(ListQuery, req);
    const rows = await jobList(deps, principalOf(res).tenantId, {
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
        durationSeconds:
          r.started_at && r.finished_at ? (r.finished_at.getTime() - r.started_at.getTime()) / 1000 : null,
        outcome: r.outcome,
        approval: r.approval,
        origin: readOrigin(r.origin),
        mode: r.mode,
      })),
      next: rows.length === f.limit && last ? { before: last.created_at.toISOString() } : null,
    } satisfies Sent<JobList>);
  });

  router.get('/:id/notifications', jobNotifications(deps));

  router.get('/:id', async (req, res) => {
    const { job, progress, progressError } = await jobDetail(deps, principalOf(res).tenantId, req.params.id);
    const id = job.id;
    res.json({
      id: job.id,
      name: job.name,
      // A final record wins: a workflow closed from outside still answers its query with the
      // state it was in (awaiting approval, running), and reconciliation recorded the truth.
      status: isFinalJobStatus(job.status) ? job.status : (progress?.status ?? job.status),
      planHash: job.plan_hash,
      risk: job.risk,
      requestedBy: job.requested_by,
      origin: readOrigin(job.origin),
      mode: job.mode,
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
      retry: await retryView(deps.pool, job),
      traceId: job.trace_id ?? null,
      links: jobLinks(deps, id, job.trace_id),
    } satisfies Sent<JobDetail>);
  });

  router.post('/:id/retry', requireRole('operator'), async (req, res) => {
    const { comment } = parseBody(RetryBody, req);
    const created = await retryJob(deps, callerOf(req, res), String(req.params.id), comment);
    res.status(201).json({
      id: created.id,
      status: 'queued',
      planHash: created.planHash,
      risk: created.risk,
      approvalRequired: created.approvalRequired,
      mode: created.mode,
      summary: null,
      retryOf: created.retryOf,
      rootJobId: created.rootJobId,
      retried: created.retried,
      links: jobLinks(deps, created.id),
    } satisfies Sent<RetryCreated>);
  });

  // The per-target results with their full stored output, a page at a time: a job over a thousand
  // targets has thousands of them, too many for the job's own answer.
  router.get('/:id/results', async (req, res) => {
    const f = parseQuery(ResultsQuery, req);
    const rows = await jobResults(deps, principalOf(res).tenantId, req.params.id, {
      limit: f.limit,
      ...(f.target !== undefined && { target: f.target }),
      ...(f.step !== undefined && { step: f.step }),
      ...(f.status && { status: f.status }),
      ...(f.after !== undefined && { after: f.after }),
    });
    const last = rows.at(-1);
    res.json({
      results: rows.map(resultView),
      next:
        rows.length === f.limit && last ? { after: encodeCursor([last.ord, last.target_name, last.target_id]) } : null,
    } satisfies Sent<StepResultPage>);
  });

  router.get('/:id/events', async (req, res) => {
    const job = await jobOf(deps, principalOf(res).tenantId, req.params.id);
    await jobEventsHandler(deps, job, req, res);
  });

  const control = async (
    req: Request,
    res: Response,
    action: DecisionAction,
    fields: DecisionFields,
  ): Promise<void> => {
    res.json(
      (await controlJob(deps, callerOf(req, res), String(req.params.id), action, fields)) satisfies ControlAnswer,
    );
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
