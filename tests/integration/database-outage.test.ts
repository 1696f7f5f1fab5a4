import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgOutputStore, createResultOutbox, type ExecutionRecord } from '@opsc/activities/execution';
import { eventually, requestJson, waitForJob } from '../support/api.js';
import { startProxy, type TcpProxy } from '../support/pg-proxy.js';
import { control, submitDraft, type Created } from '../support/rollout.js';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.js';
import type { RunningExecutor } from '../support/stack.js';

// The executor reaches PostgreSQL through a proxy the test takes down and brings back (the suite's
// PostgreSQL stays up; the API and the orchestrator use it directly). A database that is away may
// delay a step's bookkeeping, never fail a step whose change ran, and never let a step run unchecked.
const SIZE = 2;
let h: SshHarness;
let proxy: TcpProxy;
let executor: RunningExecutor;
let operator: { token: string };
let approver: { token: string };

const group = { group: 'Outage' };
const appendThenWait = (file: string, seconds: number) => ({
  id: 'append',
  tool: 'run-script',
  params: { script: `echo applied >> ${file}; sleep ${seconds}` },
  targets: group,
});
const readBack = (file: string) => ({
  id: 'read-back',
  tool: 'run-command',
  params: { program: 'cat', args: [file] },
  targets: group,
});
const tmpFile = (name: string) => `/tmp/${name}-${randomBytes(3).toString('hex')}`;

const linesOn = async (file: string) =>
  Promise.all(h.fleet.hosts.map(async (_, i) => (await h.fleet.exec(i, `cat ${file} 2>/dev/null`)).stdout));
const pendingActivities = async (jobId: string) =>
  (await h.stack.client.workflow.getHandle(jobId).describe()).raw.pendingActivities ?? [];
// PendingActivityState 2 = STARTED.
const STARTED = 2;
const millis = (t: { seconds?: { toString(): string } | null; nanos?: number | null } | null | undefined) =>
  t ? Number(t.seconds?.toString() ?? 0) * 1000 + (t.nanos ?? 0) / 1e6 : 0;

/** One metric of the executor, as Prometheus would scrape it. */
const metric = async (name: string): Promise<number> => {
  const text = await (await fetch(`${executor.healthUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : NaN;
};

/** The executor's own part of each step_results row of a job (null where only the workflow's verdict landed). */
const executorRows = async (jobId: string) =>
  (
    await h.stack.pool.query<{
      step_id: string;
      target_id: string;
      status: string | null;
      attempt: number | null;
      exit_code: number | null;
      stdout: string | null;
    }>(
      'SELECT step_id, target_id, status, attempt, exit_code, stdout FROM step_results WHERE job_id = $1 ORDER BY step_id, target_id',
      [jobId],
    )
  ).rows;

const submitApproved = async (name: string, steps: unknown[]): Promise<Created> => {
  const created = await submitDraft(h.orchestrator.apiUrl, operator.token, {
    name,
    steps,
    policies: { maxParallel: SIZE },
  });
  expect(
    (await control(h.orchestrator.apiUrl, approver.token, created.id, 'approve', { planHash: created.planHash }))
      .status,
  ).toBe(200);
  return created;
};

beforeAll(async () => {
  h = await startSshHarness('database-outage', { size: SIZE, groups: { Outage: [0, 1] } });
  const direct = new URL(h.stack.roleUrls.executor);
  proxy = await startProxy(direct.hostname, Number(direct.port));
  h.base.onClose(() => proxy.down());
  executor = await h.stack.startExecutor({ DATABASE_URL: proxy.url(h.stack.roleUrls.executor) });
  operator = await h.stack.createUser('operator', { tenant: 'acme' });
  approver = await h.stack.createUser('approver', { tenant: 'acme' });
}, 240_000);

afterAll(async () => {
  await h?.close();
});

describe('the executor while PostgreSQL is down', () => {
  it('succeeds a step whose change ran during a 30 s outage, starts the next step on what it looked up, and saves each result once when the database is back', async () => {
    const file = tmpFile('outage-during-step');
    const created = await submitApproved('append during an outage', [appendThenWait(file, 6), readBack(file)]);
    await eventually(
      async () =>
        (await pendingActivities(created.id)).filter((a) => a.state === STARTED).length === SIZE ? true : undefined,
      60_000,
      'every host to run the step',
    );
    await eventually(
      async () => ((await linesOn(file)).every((l) => l === 'applied\n') ? true : undefined),
      30_000,
      'the change to land on every host',
    );

    const downAt = Date.now();
    await proxy.down();
    // Both steps end while the executor cannot reach PostgreSQL: the read-back starts on the job it
    // admitted and the target it looked up a moment ago, and no verdict waits for a save.
    const job = await waitForJob(h.orchestrator.apiUrl, operator.token, created.id, undefined, 90_000);
    expect(job.status).toBe('completed');
    expect(job.progress!.matrix).toEqual(['SS', 'SS']);
    expect(await metric('opsc_executor_result_outbox_pending')).toBe(2 * SIZE);
    expect((await executorRows(created.id)).map((r) => r.attempt)).toEqual([null, null, null, null]);

    // The outage of the report: 27 s and more.
    await new Promise((r) => setTimeout(r, Math.max(0, downAt + 30_000 - Date.now())));
    await proxy.up();
    await expect
      .poll(async () => (await executorRows(created.id)).map((r) => [r.step_id, r.status, r.attempt, r.exit_code]), {
        timeout: 30_000,
        interval: 250,
      })
      .toEqual([
        ['append', 'succeeded', 1, 0],
        ['append', 'succeeded', 1, 0],
        ['read-back', 'succeeded', 1, 0],
        ['read-back', 'succeeded', 1, 0],
      ]);
    expect((await executorRows(created.id)).filter((r) => r.step_id === 'read-back').map((r) => r.stdout)).toEqual([
      'applied\n',
      'applied\n',
    ]);
    expect(await linesOn(file)).toEqual(['applied\n', 'applied\n']);
    expect(await metric('opsc_executor_result_outbox_pending')).toBe(0);
    expect(await metric('opsc_executor_result_outbox_dropped_total')).toBe(0);
  }, 180_000);

  it('holds a step of a job it has not checked yet while PostgreSQL is down, heartbeating, and runs it once the gate has read the job', async () => {
    const file = tmpFile('outage-at-start');
    await proxy.down();
    const created = await submitApproved('append after an outage', [appendThenWait(file, 0)]);
    // The attempts are running and alive past the heartbeat timeout (3 s), still the first ones: waiting, not failing.
    await eventually(
      async () => {
        const pending = await pendingActivities(created.id);
        const waiting = pending.filter(
          (a) =>
            a.state === STARTED && a.attempt === 1 && millis(a.lastHeartbeatTime) - millis(a.lastStartedTime) > 6_000,
        );
        return waiting.length === SIZE ? true : undefined;
      },
      60_000,
      'both attempts to wait for the database past two heartbeat timeouts',
    );
    expect(await metric('opsc_executor_database_waits')).toBe(SIZE);
    expect(await linesOn(file)).toEqual(['', '']);

    await proxy.up();
    const job = await waitForJob(h.orchestrator.apiUrl, operator.token, created.id, undefined, 60_000);
    expect(job.status).toBe('completed');
    expect(job.results.map((r) => [r.stepId, r.status, r.attempt])).toEqual([
      ['append', 'succeeded', 1],
      ['append', 'succeeded', 1],
    ]);
    expect(await linesOn(file)).toEqual(['applied\n', 'applied\n']);
  }, 120_000);

  it('waits out an outage longer than every attempt of a step: the job asks again once the database is back, it does not fail the step', async () => {
    const file = tmpFile('outage-past-attempts');
    await proxy.down();
    // One attempt: on its own, the step would fail when the gate stops waiting (about 25 s).
    const plan = {
      name: 'append after a long outage',
      policies: { maxParallel: SIZE, maxAttempts: 1 },
      steps: [
        {
          id: 'append',
          name: 'Append',
          targets: group,
          action: { method: 'ssh', operation: { op: 'script', shell: 'sh', script: `echo applied >> ${file}` } },
        },
      ],
    };
    const { status, body: created } = await requestJson<Created>(`${h.orchestrator.apiUrl}/api/jobs`, {
      token: operator.token,
      body: { plan },
    });
    expect(status).toBe(201);
    expect(
      (await control(h.orchestrator.apiUrl, approver.token, created.id, 'approve', { planHash: created.planHash }))
        .status,
    ).toBe(200);
    const waiting = await eventually(
      async () => {
        const job = await waitForJob(h.orchestrator.apiUrl, operator.token, created.id, () => true, 5_000);
        const logs = job.progress?.logs.filter((l) => /waits for the executor's database/.test(l.message)) ?? [];
        return logs.length === SIZE ? job : undefined;
      },
      90_000,
      "the job to wait for the executor's database on both hosts",
    );
    expect(waiting.status).toBe('running');
    expect(waiting.progress!.matrix).toEqual(['>>']);
    expect(await linesOn(file)).toEqual(['', '']);

    await proxy.up();
    const job = await waitForJob(h.orchestrator.apiUrl, operator.token, created.id, undefined, 90_000);
    expect(job.status).toBe('completed');
    expect(job.results.map((r) => [r.stepId, r.status])).toEqual([
      ['append', 'succeeded'],
      ['append', 'succeeded'],
    ]);
    expect(await linesOn(file)).toEqual(['applied\n', 'applied\n']);
  }, 180_000);

  it('saves the results it still holds when it is stopped, if PostgreSQL comes back within the flush time', async () => {
    const file = tmpFile('outage-at-shutdown');
    const created = await submitApproved('append before a shutdown', [appendThenWait(file, 3)]);
    await eventually(
      async () => ((await linesOn(file)).every((l) => l === 'applied\n') ? true : undefined),
      60_000,
      'the change to land on every host',
    );
    await proxy.down();
    const job = await waitForJob(h.orchestrator.apiUrl, operator.token, created.id, undefined, 60_000);
    expect(job.status).toBe('completed');
    expect(await metric('opsc_executor_result_outbox_pending')).toBe(SIZE);

    // SIGTERM: the worker stops, the health server closes, then the kept results are flushed.
    const stopped = executor.service.stop(120_000);
    await eventually(
      () =>
        fetch(`${executor.healthUrl}/health`).then(
          () => undefined,
          () => true,
        ),
      30_000,
      'the health server to close',
    );
    expect((await executorRows(created.id)).map((r) => r.attempt)).toEqual([null, null]);
    await proxy.up();
    await stopped;
    expect(await executor.service.exited).toEqual({ code: 0, signal: null });
    expect((await executorRows(created.id)).map((r) => [r.step_id, r.status, r.attempt, r.exit_code])).toEqual([
      ['append', 'succeeded', 1, 0],
      ['append', 'succeeded', 1, 0],
    ]);
  }, 180_000);

  it('keeps at most its bounds while PostgreSQL is away (the oldest output goes first, then the oldest result, each counted and logged) and never lets an earlier attempt replace a later one', async () => {
    const pool = new pg.Pool({
      connectionString: proxy.url(h.stack.roleUrls.executor),
      max: 2,
      connectionTimeoutMillis: 1_000,
    });
    pool.on('error', () => undefined);
    const logged: string[] = [];
    const outbox = createResultOutbox(createPgOutputStore(pool), {
      maxRecords: 4,
      maxBytes: 6_000,
      firstTryMs: 500,
      log: (msg) => logged.push(msg),
    });
    const target = { id: h.targetIds[0]!, name: 'outbox-host' };
    const record = (stepId: string, attempt: number, stdout = ''): ExecutionRecord => ({
      context: { jobId: h.jobId, stepId, target, timeoutSeconds: 60 },
      attempt,
      method: 'ssh',
      exitCode: 0,
      signal: null,
      stdout,
      stderr: '',
      stdoutTruncated: false,
      stderrTruncated: false,
      facts: { step: stepId, attempt: String(attempt) },
      startedAt: new Date(),
      finishedAt: new Date(),
    });
    const stored = async (stepId: string) =>
      (
        await h.stack.pool.query(
          'SELECT attempt, exit_code, stdout, stderr, stdout_truncated, facts FROM step_results WHERE job_id = $1 AND step_id = $2',
          [h.jobId, stepId],
        )
      ).rows;
    // A later attempt already in PostgreSQL (another executor saved it while this one could not).
    await h.stack.pool.query(
      `INSERT INTO step_results (job_id, step_id, target_id, target_name, attempt, method, exit_code, stdout, stderr, started_at, finished_at)
       VALUES ($1, 'later', $2, 'outbox-host', 3, 'ssh', 0, 'attempt 3', '', now(), now())`,
      [h.jobId, target.id],
    );
    try {
      await proxy.down();
      const started = Date.now();
      await outbox.saveResult(record('b1', 1, 'x'.repeat(3_000)));
      await outbox.saveResult(record('b2', 1, 'y'.repeat(3_000)));
      await outbox.saveResult(record('b3', 2));
      await outbox.saveResult(record('b3', 1, 'a late resend of attempt 1'));
      await outbox.saveResult(record('later', 2, 'attempt 2'));
      await outbox.saveResult(record('b4', 1));
      expect(Date.now() - started, 'no save waits for the database').toBeLessThan(5_000);
      expect(outbox.stats()).toMatchObject({ pending: 4, dropped: 1, outputDropped: 2, saved: 0 });
      expect(outbox.pendingFacts(h.jobId, 'b3', target.id)).toEqual({ step: 'b3', attempt: '2' });
      expect(logged.filter((m) => m.includes('EXECUTOR_RESULT_OUTBOX_MAX_RECORDS'))).toHaveLength(1);
      expect(logged.filter((m) => m.includes('EXECUTOR_RESULT_OUTBOX_MAX_BYTES'))).toHaveLength(2);

      await proxy.up();
      await expect.poll(() => outbox.stats().pending, { timeout: 20_000, interval: 100 }).toBe(0);
      expect(await stored('b1')).toEqual([]);
      expect(await stored('b2')).toEqual([
        {
          attempt: 1,
          exit_code: 0,
          stdout: '',
          stderr: expect.stringMatching(/^\[output dropped/),
          stdout_truncated: true,
          facts: { step: 'b2', attempt: '1' },
        },
      ]);
      expect(await stored('b3')).toMatchObject([{ attempt: 2, stdout: '', facts: { attempt: '2' } }]);
      expect(await stored('b4')).toMatchObject([{ attempt: 1 }]);
      expect(await stored('later')).toMatchObject([{ attempt: 3, stdout: 'attempt 3' }]);
      // A resend lands once.
      await outbox.saveResult(record('b4', 1, 'again'));
      expect(await stored('b4')).toMatchObject([{ attempt: 1, stdout: 'again' }]);
      expect(outbox.stats()).toMatchObject({ pending: 0, saved: 4, dropped: 1 });
    } finally {
      await proxy.up().catch(() => undefined);
      await outbox.close(1_000);
      await pool.end();
    }
  }, 60_000);
});
