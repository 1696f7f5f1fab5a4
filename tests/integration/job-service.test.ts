import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { Client } from '@temporalio/client';
import { Plan } from '@opsc/contracts';
import { BUILTIN_TOOLS_DIR, loadCatalog } from '@opsc/planning';
import { controlJob, jobDetail, submitJob, type Caller, type JobDeps } from '@opsc/orchestrator/jobs';
import { createTestStack, type TestStack } from '../support/stack.js';

/**
 * The job service called as the API's routes call it, without HTTP: a real PostgreSQL (the
 * orchestrator's own least-privilege role) and a real Temporal server. No orchestrator worker
 * runs, so a started job stays queued in Temporal: what the service itself records and refuses is
 * all there is to see.
 */
describe('the job service', () => {
  let stack: TestStack;
  let pool: pg.Pool;
  let deps: JobDeps;
  let operator: Caller;
  let approver: Caller;
  const logged: string[] = [];
  const started: string[] = [];

  const callerFor = async (role: 'operator' | 'approver'): Promise<Caller> => {
    const { username, tenantId } = await stack.createUser(role);
    const { rows } = await stack.pool.query<{ id: string }>('SELECT id FROM users WHERE username = $1', [username]);
    return { tenantId, userId: rows[0]!.id, username, role, sourceIp: '127.0.0.1' };
  };
  const rawPlan = (name: string, steps: unknown[]) => Plan.parse({ name, steps });
  const touch = (name: string) =>
    rawPlan(name, [
      {
        id: 'touch',
        name: 'Touch a file',
        action: { method: 'local-command', command: 'touch', args: ['/tmp/opsc-job-service'] },
      },
    ]);
  const jobCount = async () =>
    (await stack.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM jobs')).rows[0]!.n;

  beforeAll(async () => {
    stack = await createTestStack('job-service');
    pool = new pg.Pool({ connectionString: stack.roleUrls.orchestrator, max: 2 });
    const note = (msg: string) => logged.push(msg);
    deps = {
      pool,
      client: stack.client,
      log: { debug: note, info: note, warn: note, error: note },
      jobOptions: { heartbeatTimeoutSeconds: 3, historyEventLimit: 10_000 },
      planning: { catalog: await loadCatalog([BUILTIN_TOOLS_DIR]) },
      platformServices: [],
    };
    operator = await callerFor('operator');
    approver = await callerFor('approver');
  });

  afterAll(async () => {
    for (const id of started)
      await stack.client.workflow
        .getHandle(id)
        .terminate('test over')
        .catch(() => undefined);
    await pool?.end();
    await stack?.close();
  });

  it("records the job and its audit entry, then starts its workflow with the server's verdict and the tenant's approval policy", async () => {
    const job = await submitJob(deps, operator, { plan: touch('touch a file') });
    started.push(job.id);
    expect(job).toMatchObject({ risk: 'change', approvalRequired: true, summary: null });
    const row = (
      await stack.pool.query('SELECT status, risk, requested_by, plan_hash FROM jobs WHERE id = $1', [job.id])
    ).rows[0];
    expect(row).toEqual({ status: 'queued', risk: 'change', requested_by: operator.username, plan_hash: job.planHash });
    const audit = (
      await stack.pool.query('SELECT actor, action, plan_hash, source_ip, details FROM audit_log WHERE job_id = $1', [
        job.id,
      ])
    ).rows;
    expect(audit).toEqual([
      {
        actor: operator.username,
        action: 'job.submit',
        plan_hash: job.planHash,
        source_ip: '127.0.0.1',
        details: { risk: 'change', approvalRequired: true, targets: 0, origin: { kind: 'manual' }, mode: 'run' },
      },
    ]);

    const handle = stack.client.workflow.getHandle(job.id);
    const description = await handle.describe();
    expect(description.taskQueue).toBe('orchestrator');
    expect(description.memo).toMatchObject({
      name: 'touch a file',
      planHash: job.planHash,
      risk: 'change',
      approvalRequired: true,
      steps: ['Touch a file'],
      targets: 0,
    });
    const history = await handle.fetchHistory();
    const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data;
    const args = JSON.parse(Buffer.from(input ?? []).toString('utf8')) as { approval: unknown; requestedBy: string };
    expect(args.requestedBy).toBe(operator.username);
    expect(args.approval).toEqual({
      required: true,
      reasons: ['step "touch" is change'],
      fourEyes: true,
      timeoutSeconds: 86_400,
    });
  });

  it('refuses a plan that changed since it was shown, and one whose targets do not resolve, recording nothing', async () => {
    const before = await jobCount();
    await expect(
      submitJob(deps, operator, { plan: touch('stale'), expectPlanHash: 'f'.repeat(64) }),
    ).rejects.toMatchObject({
      type: 'Conflict',
      message: expect.stringMatching(/^the plan is no longer the one shown \(hash ffffffffffff…, now [0-9a-f]{12}…\)/),
    });
    const nowhere = rawPlan('nowhere', [
      {
        id: 'status',
        name: 'Status',
        targets: { group: 'Nowhere' },
        action: { method: 'ssh', operation: { op: 'service', action: 'status', name: 'nginx' } },
      },
    ]);
    await expect(submitJob(deps, operator, { plan: nowhere })).rejects.toMatchObject({
      type: 'ValidationFailed',
      message: "the plan's targets do not resolve",
      issues: [{ path: 'plan.steps.0.targets.group', message: 'no such group' }],
    });
    expect(await jobCount()).toBe(before);
  });

  it('records a job Temporal does not accept as failed and says so', async () => {
    const elsewhere: JobDeps = {
      ...deps,
      client: new Client({ connection: stack.client.connection, namespace: 'no-such-namespace' }),
    };
    await expect(submitJob(elsewhere, operator, { plan: touch('unstarted') })).rejects.toMatchObject({
      type: 'Unavailable',
      message: 'Temporal did not accept the job; it was recorded as failed',
    });
    const row = (await stack.pool.query("SELECT status, error_type, error_message FROM jobs WHERE name = 'unstarted'"))
      .rows[0];
    expect(row).toEqual({
      status: 'failed',
      error_type: 'Unavailable',
      error_message: 'the workflow could not be started',
    });
    expect(logged).toContain('job not started');
  });

  it('keeps a decision the workflow did not take up in time, and closes one the finished job refused', async () => {
    const job = await submitJob(deps, operator, { plan: touch('to approve') });
    started.push(job.id);
    // No worker runs: the detail answers from the record, with why the progress is missing.
    const detail = await jobDetail(deps, operator.tenantId, job.id);
    expect(detail.job.status).toBe('queued');
    expect(detail.progress).toBeNull();
    expect(detail.progressError).toEqual(expect.any(String));

    await expect(controlJob(deps, approver, job.id, 'approve', { planHash: job.planHash })).rejects.toMatchObject({
      type: 'Unavailable',
      message: 'the job did not take the request in time (is an orchestrator worker running?)',
    });
    const decisions = async () =>
      (
        await stack.pool.query(
          'SELECT action, status, refusal FROM job_decisions WHERE job_id = $1 ORDER BY created_at',
          [job.id],
        )
      ).rows;
    expect(await decisions()).toEqual([{ action: 'approve', status: 'recorded', refusal: null }]);

    await stack.client.workflow.getHandle(job.id).terminate('closed for the test');
    await expect(controlJob(deps, operator, job.id, 'reject', { comment: 'too late' })).rejects.toMatchObject({
      type: 'Conflict',
      message: 'the job has finished',
    });
    expect((await decisions())[1]).toEqual({ action: 'reject', status: 'refused', refusal: 'the job has finished' });
    const refused = (
      await stack.pool.query("SELECT details FROM audit_log WHERE job_id = $1 AND action = 'job.decision.refused'", [
        job.id,
      ])
    ).rows;
    expect(refused).toEqual([
      { details: expect.objectContaining({ action: 'reject', reason: 'the job has finished' }) },
    ]);
  });

  it("answers another tenant's job exactly like a missing one", async () => {
    const job = await submitJob(deps, operator, { plan: touch('mine') });
    started.push(job.id);
    const stranger = await stack.createUser('operator', { tenant: 'elsewhere' });
    await expect(jobDetail(deps, stranger.tenantId, job.id)).rejects.toMatchObject({
      type: 'NotFound',
      message: `no job ${job.id}`,
    });
    await expect(jobDetail(deps, stranger.tenantId, 'job-not-an-id')).rejects.toMatchObject({
      type: 'NotFound',
      message: 'no job job-not-an-id',
    });
  });
});
