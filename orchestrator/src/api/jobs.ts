import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import { ErrorType, Plan, TaskQueue, type JobProgress, type RunJobInput } from '@opsc/contracts';
import { planHash } from '@opsc/contracts/plan-hash';
import { RUN_JOB_WORKFLOW, SearchAttribute, progressQuery } from '@opsc/contracts/temporal';

import { resolveJobTargets } from '../inventory/step-targets.js';
import { withTimeout } from '../with-timeout.js';
import type { ApiDeps } from './deps.js';
import { recordAudit } from '../audit.js';
import { principalOf, requireRole } from './auth.js';
import { ApiFailure } from './errors.js';
import { parseBody } from './validate.js';
import { findJob, findStepResults, insertJob, markJobUnstarted, type StepResultRow } from './job-store.js';

const CreateJobBody = z.strictObject({ plan: Plan });
const JOB_ID = /^job-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A query needs a live orchestrator worker; do not hang the API when there is none. */
const QUERY_TIMEOUT_MS = 3_000;

const resultView = (r: StepResultRow) => ({
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

export const jobsRouter = (deps: ApiDeps): Router => {
  const router = Router();
  const uiLink = (id: string) =>
    deps.temporalUiUrl ? `${deps.temporalUiUrl}/namespaces/${encodeURIComponent(deps.namespace)}/workflows/${id}` : null;

  router.post('/', requireRole('operator'), async (req, res) => {
    const principal = principalOf(res);
    const { plan } = parseBody(CreateJobBody, req);
    const id = `job-${randomUUID()}`;
    const hash = planHash(plan);
    const requestedBy = principal.username;
    const targets = await resolveJobTargets(deps.pool, principal.tenantId, plan);
    await insertJob(deps.pool, { id, tenantId: principal.tenantId, plan, planHash: hash, requestedBy, targets });
    await recordAudit(deps.pool, { tenantId: principal.tenantId, actor: requestedBy, action: 'job.submit', objectType: 'job', objectId: id, jobId: id, planHash: hash, sourceIp: req.ip });
    const input: RunJobInput = { jobId: id, plan, ...targets, requestedBy, options: deps.jobOptions };
    try {
      await deps.client.workflow.start(RUN_JOB_WORKFLOW, {
        workflowId: id,
        taskQueue: TaskQueue.orchestrator,
        args: [input],
        typedSearchAttributes: [
          { key: SearchAttribute.jobId, value: id },
          { key: SearchAttribute.requester, value: requestedBy },
          { key: SearchAttribute.status, value: 'queued' },
        ],
        memo: { name: plan.name, steps: plan.steps.length, targets: targets.targets.length, planHash: hash },
      });
    } catch (err) {
      deps.log.error('job not started', { jobId: id, error: (err as Error).message });
      await markJobUnstarted(deps.pool, id, 'the workflow could not be started');
      throw new ApiFailure(ErrorType.Unavailable, 'Temporal did not accept the job; it was recorded as failed');
    }
    deps.log.info('job started', { jobId: id, steps: plan.steps.length, planHash: hash });
    res.status(201).json({ id, status: 'queued', planHash: hash, links: { self: `/api/jobs/${id}`, temporalUi: uiLink(id) } });
  });

  router.get('/:id', async (req, res) => {
    const id = req.params.id;
    if (!JOB_ID.test(id)) throw new ApiFailure(ErrorType.NotFound, `no job ${id}`);
    // Another tenant's job answers exactly like a missing one.
    const job = await findJob(deps.pool, id, principalOf(res).tenantId);
    if (!job) throw new ApiFailure(ErrorType.NotFound, `no job ${id}`);
    let progress: JobProgress | null = null;
    let progressError: string | null = null;
    try {
      progress = await withTimeout(deps.client.workflow.getHandle(id).query(progressQuery), QUERY_TIMEOUT_MS, 'progress query');
    } catch (err) {
      progressError = (err as Error).message;
    }
    const results = await findStepResults(deps.pool, id);
    res.json({
      id: job.id,
      name: job.name,
      status: progress?.status ?? job.status,
      planHash: job.plan_hash,
      requestedBy: job.requested_by,
      createdAt: job.created_at,
      startedAt: job.started_at,
      finishedAt: job.finished_at,
      error: job.error_type ? { type: job.error_type, message: job.error_message } : null,
      plan: job.plan,
      targets: job.resolved_targets.targets,
      progress,
      progressError,
      results: results.map(resultView),
      links: { self: `/api/jobs/${id}`, temporalUi: uiLink(id) },
    });
  });
  return router;
};
