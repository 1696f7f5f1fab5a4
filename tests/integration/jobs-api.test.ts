import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskQueue } from '@opsc/contracts';
import { Health, JobCreated, JobList, OpenApiDocument, openApiDocument } from '@opsc/contracts/api';
import { allowEgress, expectAnswer, requestJson, waitForJob } from '../support/api.js';
import { approveAndWait, type Created } from '../support/rollout.js';
import { createTestStack, type TestStack } from '../support/stack.js';

describe('jobs through the HTTP API', () => {
  let stack: TestStack;
  let apiUrl: string;
  let healthUrl: string;
  let token: string;
  let adminToken: string;
  let approverToken: string;
  let target: http.Server;
  let targetUrl: string;
  const targetHits: string[] = [];

  beforeAll(async () => {
    target = http.createServer((req, res) => {
      targetHits.push(`${req.method} ${req.url}`);
      res.writeHead(req.url === '/broken' ? 500 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ service: 'inventory-probe', ok: req.url !== '/broken' }));
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
    stack = await createTestStack('jobs-api');
    [{ apiUrl }, { healthUrl }] = await Promise.all([stack.startOrchestrator(), stack.startExecutor()]);
    ({ token } = await stack.createUser('operator'));
    ({ token: adminToken } = await stack.createUser('admin'));
    ({ token: approverToken } = await stack.createUser('approver'));
    // Loopback is refused to http steps unless the tenant allows the exact destination.
    await allowEgress(apiUrl, adminToken, [new URL(targetUrl).host]);
  });

  afterAll(async () => {
    await stack?.close();
    target?.close();
  });

  it('runs a local command and an HTTP call on the executor, in order, and reports them', async () => {
    const plan = {
      name: 'say hello, then probe',
      steps: [
        {
          id: 'hello',
          name: 'Say hello',
          action: { method: 'local-command', command: 'echo', args: ['hello', 'from the executor'] },
        },
        { id: 'probe', name: 'Probe the service', action: { method: 'http', url: `${targetUrl}/status?x=1` } },
      ],
    };
    const created = await requestJson<{ id: string; planHash: string }>(`${apiUrl}/api/jobs`, {
      body: { plan },
      token,
    });
    expect(created.status).toBe(201);
    expect(created.body.id).toMatch(/^job-/);
    expect(created.body.planHash).toMatch(/^[0-9a-f]{64}$/);
    expectAnswer(JobCreated, created.body, 'POST /api/jobs');

    const job = await waitForJob(apiUrl, token, created.body.id);
    expect(job.status).toBe('completed');
    const hello = job.results.find((r) => r.stepId === 'hello');
    expect(hello).toMatchObject({ status: 'succeeded', exitCode: 0, stdout: 'hello from the executor\n', attempt: 1 });
    const probe = job.results.find((r) => r.stepId === 'probe');
    expect(probe).toMatchObject({ status: 'succeeded', httpStatus: 200 });
    expect(JSON.parse(probe?.stdout ?? '{}')).toEqual({ service: 'inventory-probe', ok: true });
    expect(targetHits).toContain('GET /status?x=1');

    expect(job.progress).toMatchObject({
      status: 'completed',
      currentStep: 2,
      totalSteps: 2,
      stepName: 'Probe the service',
    });
    expect(job.progress?.steps.map((s) => s.status)).toEqual(['succeeded', 'succeeded']);
    expect(job.progress?.targetProgress).toMatchObject({ total: 1, completed: 1, failed: 0 });

    // Both execution activities were scheduled on the executor's queue, none on the orchestrator's.
    const history = await stack.client.workflow.getHandle(created.body.id).fetchHistory();
    const scheduled = (history.events ?? [])
      .map((e) => e.activityTaskScheduledEventAttributes)
      .filter((a) => a?.activityType?.name === 'runLocalCommand' || a?.activityType?.name === 'sendHttpRequest');
    expect(scheduled.map((a) => [a?.activityType?.name, a?.taskQueue?.name])).toEqual([
      ['runLocalCommand', TaskQueue.executor],
      ['sendHttpRequest', TaskQueue.executor],
    ]);
  });

  it('stops at a failing step, skips the rest and records why', async () => {
    const plan = {
      name: 'fail early',
      steps: [
        { id: 'probe', name: 'Probe a broken endpoint', action: { method: 'http', url: `${targetUrl}/broken` } },
        {
          id: 'after',
          name: 'Never runs',
          action: { method: 'local-command', command: 'echo', args: ['unreachable'] },
        },
      ],
    };
    const { body } = await requestJson<{ id: string }>(`${apiUrl}/api/jobs`, { body: { plan }, token });
    const job = await waitForJob(apiUrl, token, body.id);
    expect(job.status).toBe('failed');
    expect(job.results.find((r) => r.stepId === 'probe')).toMatchObject({
      status: 'failed',
      httpStatus: 500,
      error: { type: 'UnexpectedStatus', message: 'HTTP 500' },
    });
    expect(job.results.find((r) => r.stepId === 'after')).toBeUndefined();
    expect(job.progress?.steps.map((s) => s.status)).toEqual(['failed', 'skipped']);
    const audit = await stack.pool.query(
      `SELECT actor, action, plan_hash FROM audit_log WHERE job_id = $1 ORDER BY id`,
      [body.id],
    );
    expect(audit.rows.map((r) => r.action)).toEqual(['job.submit', 'job.failed']);
    expect(audit.rows[1].plan_hash).toBe(audit.rows[0].plan_hash);
  });

  it('refuses a program outside the executor allowlist without retrying', async () => {
    const plan = {
      name: 'not allowed',
      steps: [{ id: 'rm', name: 'Remove', action: { method: 'local-command', command: 'rm', args: ['-f', '/tmp/x'] } }],
    };
    const { body } = await requestJson<Created>(`${apiUrl}/api/jobs`, { body: { plan }, token });
    // rm is a change: a second person approves it, and the executor still refuses it.
    expect(body.approvalRequired).toBe(true);
    const job = await approveAndWait(apiUrl, token, approverToken, body);
    expect(job.status).toBe('failed');
    expect(job.results[0]).toMatchObject({ status: 'failed', error: { type: 'CommandNotAllowed' } });
    const history = await stack.client.workflow.getHandle(body.id).fetchHistory();
    const started = (history.events ?? []).filter((e) => e.activityTaskStartedEventAttributes);
    const attempts = started.map((e) => e.activityTaskStartedEventAttributes?.attempt);
    expect(attempts).not.toContain(2);
  });

  it('judges exit codes by the step: a non-zero exit is a failed step with its output kept', async () => {
    const plan = {
      name: 'exit codes',
      steps: [{ id: 'f', name: 'False', action: { method: 'local-command', command: 'false' } }],
      policies: { continueOnFailure: true, maxAttempts: 1 },
    };
    const { body } = await requestJson<{ id: string }>(`${apiUrl}/api/jobs`, { body: { plan }, token });
    const job = await waitForJob(apiUrl, token, body.id);
    expect(job.results[0]).toMatchObject({
      status: 'failed',
      exitCode: 1,
      error: { type: 'CommandFailed', message: 'command ended with exit code 1' },
    });
  });

  it('stops a command at its timeout and reports an HTTP endpoint that is down or silent', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const silent = http.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/hang`;
    await allowEgress(apiUrl, adminToken, [
      new URL(targetUrl).host,
      `127.0.0.1:${closedPort}`,
      new URL(silentUrl).host,
    ]);

    const plan = {
      name: 'timeouts',
      policies: { continueOnFailure: true, maxAttempts: 1 },
      steps: [
        {
          id: 'sleepy',
          name: 'Too slow',
          timeoutSeconds: 1,
          action: { method: 'local-command', command: 'sleep', args: ['30'] },
        },
        { id: 'down', name: 'Nobody listens', action: { method: 'http', url: `http://127.0.0.1:${closedPort}/` } },
        { id: 'hang', name: 'Never answers', timeoutSeconds: 1, action: { method: 'http', url: silentUrl } },
      ],
    };
    const { body } = await requestJson<{ id: string }>(`${apiUrl}/api/jobs`, { body: { plan }, token });
    const job = await waitForJob(apiUrl, token, body.id);
    silent.closeAllConnections();
    silent.close();
    const byStep = Object.fromEntries(job.results.map((r) => [r.stepId, r.error?.type]));
    expect(byStep).toEqual({ sleepy: 'Timeout', down: 'HostUnreachable', hang: 'Timeout' });
    const sleepy = await stack.pool.query(
      `SELECT signal, finished_at - started_at AS took FROM step_results WHERE job_id = $1 AND step_id = 'sleepy'`,
      [body.id],
    );
    expect(sleepy.rows[0].signal).toBe('SIGTERM');
    expect(sleepy.rows[0].took.seconds ?? 0).toBeLessThan(5);
  });

  it('answers 400 naming the field, and starts nothing, for bad input', async () => {
    const before = await stack.pool.query('SELECT count(*)::int AS n FROM jobs');
    const step = (action: unknown) => ({ plan: { name: 'bad', steps: [{ id: 's1', name: 'Step', action }] } });
    const cases: { body?: unknown; rawBody?: string; path?: string }[] = [
      { rawBody: '{"plan": ', path: undefined },
      { body: {}, path: 'plan' },
      { body: step({ method: 'telnet', command: 'x' }), path: 'plan.steps.0.action.method' },
      {
        body: step({ method: 'local-command', command: 'echo', args: ['hi; rm -rf /'] }),
        path: 'plan.steps.0.action.args.0',
      },
      {
        body: step({ method: 'local-command', command: 'echo', args: ['$(reboot)'] }),
        path: 'plan.steps.0.action.args.0',
      },
      { body: step({ method: 'local-command', command: 'echo `id`' }), path: 'plan.steps.0.action.command' },
      { body: step({ method: 'http', url: 'file:///etc/passwd' }), path: 'plan.steps.0.action.url' },
      {
        body: {
          plan: {
            name: 'dup',
            steps: [
              { id: 'a', name: 'A', action: { method: 'local-command', command: 'true' } },
              { id: 'a', name: 'B', action: { method: 'local-command', command: 'true' } },
            ],
          },
        },
        path: 'plan.steps.1.id',
      },
      { body: { plan: { name: 'x', steps: [] }, extra: true }, path: 'plan.steps' },
    ];
    for (const c of cases) {
      const res = await requestJson<{ error: { type: string; message: string; issues?: { path: string }[] } }>(
        `${apiUrl}/api/jobs`,
        { ...c, token },
      );
      expect(res.status, JSON.stringify(c)).toBe(400);
      expect(res.body.error.type).toBe('ValidationFailed');
      if (c.path)
        expect(
          res.body.error.issues?.map((i) => i.path),
          JSON.stringify(c),
        ).toContain(c.path);
      else expect(res.body.error.message).toBe('request body is not valid JSON');
    }
    const after = await stack.pool.query('SELECT count(*)::int AS n FROM jobs');
    expect(after.rows[0].n).toBe(before.rows[0].n);
    const { count } = await stack.client.workflow.count(`WorkflowType = 'runJob'`);
    expect(count).toBe(before.rows[0].n);
  });

  it('lists jobs as the contract says', async () => {
    const list = await requestJson(`${apiUrl}/api/jobs?limit=5`, { token });
    expect(list.status).toBe(200);
    expect(expectAnswer(JobList, list.body as JobList, 'GET /api/jobs').jobs.length).toBeGreaterThan(0);
  });

  it('serves its OpenAPI 3.1 document without sign-in', async () => {
    const doc = await requestJson<OpenApiDocument>(`${apiUrl}/api/openapi.json`);
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    expect(OpenApiDocument.safeParse(doc.body).success).toBe(true);
    expect(doc.body).toEqual(openApiDocument());
  });

  it('answers 404 for an unknown job and reports health', async () => {
    const missing = await requestJson(`${apiUrl}/api/jobs/job-00000000-0000-0000-0000-000000000000`, { token });
    expect(missing.status).toBe(404);
    const health = await requestJson<{ status: string; checks: Record<string, { ok: boolean }> }>(
      `${apiUrl}/api/health`,
    );
    expect(health.status).toBe(200);
    expect(health.body.checks.temporal?.ok).toBe(true);
    expect(health.body.checks.postgres?.ok).toBe(true);
    expectAnswer(Health, health.body, 'GET /api/health');
    const executorHealth = await requestJson<{ status: string }>(`${healthUrl}/health`);
    expect(executorHealth.body.status).toBe('ok');
  });

  it('exposes execution counts and durations on the executor /metrics', async () => {
    const text = await (await fetch(`${healthUrl}/metrics`)).text();
    expect(text).toMatch(/opsc_executor_commands_total\{activity="runLocalCommand",outcome="ok"\} [1-9]/);
    expect(text).toMatch(/opsc_executor_commands_total\{activity="runLocalCommand",outcome="nonzero_exit"\} [1-9]/);
    expect(text).toMatch(/opsc_executor_failures_total\{activity="runLocalCommand",error_type="CommandNotAllowed"\} 1/);
    expect(text).toMatch(/opsc_executor_command_duration_seconds_count\{activity="sendHttpRequest"\} [1-9]/);
  });
});
