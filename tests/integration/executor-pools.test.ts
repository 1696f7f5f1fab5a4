import net from 'node:net';
import { hostname } from 'node:os';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executionFields, executorQueue, type Plan } from '@opsc/contracts';
import { createJobGate } from '@opsc/activities/execution';
import { eventually, requestJson, waitForJob } from '../support/api.js';
import { control, submitDraft } from '../support/rollout.js';
import { hostName, startSshHarness, type SshHarness } from '../support/ssh-harness.js';
import type { RunningExecutor, RunningOrchestrator } from '../support/stack.js';
import { launchChromium, openUserPage, reserveWebPort, screenshot, signIn, startTestWeb } from '../support/web.js';

// Executor pools (docs/executor-pools.md): a group names the pool of its targets, each pool's
// executors poll their own task queue and act only on their pool's targets.
const SIZE = 6;
let h: SshHarness;
let api: RunningOrchestrator;
let operator: { token: string; tenantId: string };
let approver: { token: string };
let executorDb: pg.Pool;
let webUrl: string;
const PASSWORD = 'a long test password 1';
let siteA: RunningExecutor;
let siteB: RunningExecutor;

const SITE_A = [0, 1, 2];
const SITE_B = [3, 4, 5];
const names = (indexes: number[]) => indexes.map((i) => hostName(h.fleet, i));

/** An executor of the pool, once Temporal lists it among the pool's pollers. */
const startExecutor = async (pool: string) => {
  const executor = await h.stack.startExecutor({
    EXECUTOR_POOL: pool,
    ...(pool !== 'executor' && { EXECUTOR_POOL_TENANTS: 'acme' }),
  });
  const tenantId = operator.tenantId;
  await eventually(
    async () => {
      const queue = await h.stack.client.workflowService.describeTaskQueue({
        namespace: h.stack.namespace,
        taskQueue: { name: executorQueue(pool, tenantId), kind: 1 },
        taskQueueType: 2,
      });
      return queue.pollers?.some((p) => p.identity === `${executor.service.pid}@${hostname()}`) ? true : undefined;
    },
    30_000,
    `the executor of pool ${pool} to poll`,
  );
  return executor;
};
/** The SSH activities an executor finished, from its own metrics. */
const sshCommandsOf = async (executor: RunningExecutor): Promise<number> => {
  const text = await (await fetch(`${executor.healthUrl}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('opsc_executor_commands_total{') && l.includes('activity="runSshOperation"'))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
};
/** The process ids of the workers running the job's activities now (Temporal names a worker `<pid>@<host>`). */
const runningOn = async (jobId: string): Promise<number[]> => {
  const description = await h.stack.client.workflow.getHandle(jobId).describe();
  return (description.raw.pendingActivities ?? [])
    .filter((a) => a.state === 2)
    .map((a) => Number((a.lastWorkerIdentity ?? '').split('@')[0]));
};
const linesOn = (indexes: number[], file: string) =>
  Promise.all(indexes.map(async (i) => (await h.fleet.exec(i, `cat ${file} 2>/dev/null || true`)).stdout));
const appendOnBoth = (file: string, seconds = 0) => ({
  name: `append to ${file}`,
  steps: [
    {
      id: 'append',
      tool: 'run-script',
      params: { script: `echo applied >> ${file}; sleep ${seconds}` },
      targets: { group: 'Both sites' },
    },
  ],
  policies: { maxParallel: SIZE },
});
const approve = async (created: { id: string; planHash: string }) =>
  expect(
    (await control(api.apiUrl, approver.token, created.id, 'approve', { planHash: created.planHash })).status,
  ).toBe(200);

beforeAll(async () => {
  h = await startSshHarness('executor-pools', { size: SIZE });
  const webPort = await reserveWebPort();
  api = await h.stack.startOrchestrator({
    JOB_HEARTBEAT_TIMEOUT_SECONDS: '4',
    EXECUTOR_POOL_FRESH_SECONDS: '30',
    ...webPort.orchestratorEnv,
  });
  const web = await startTestWeb(h.stack.namespace, api.apiUrl, webPort.port);
  h.base.onClose(() => web.service.stop(5_000));
  webUrl = web.url;
  operator = await h.stack.createUser('operator', { tenant: 'acme', username: 'pool-operator', password: PASSWORD });
  approver = await h.stack.createUser('approver', { tenant: 'acme' });
  const groups = [
    { name: 'Site A', targets: names(SITE_A), pool: 'site-a' },
    { name: 'Site B', targets: names(SITE_B), pool: 'site-b' },
    { name: 'Both sites', targets: [], children: ['Site A', 'Site B'] },
  ];
  for (const group of groups) {
    const res = await requestJson(`${api.apiUrl}/api/inventory/groups`, { token: h.admin.token, body: group });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
  executorDb = new pg.Pool({ connectionString: h.stack.roleUrls.executor, max: 2 });
}, 240_000);

afterAll(async () => {
  await executorDb?.end();
  await h?.close();
});

describe('executor pools', () => {
  it("shows each target's pool, inherited from its group", async () => {
    const { body } = await requestJson<{ targets: { name: string; executorPool?: string; pool?: string }[] }>(
      `${api.apiUrl}/api/inventory/targets`,
      { token: operator.token },
    );
    const pools = Object.fromEntries(body.targets.map((t) => [t.name, [t.pool ?? null, t.executorPool]]));
    for (const name of names(SITE_A)) expect(pools[name]).toEqual([null, 'site-a']);
    for (const name of names(SITE_B)) expect(pools[name]).toEqual([null, 'site-b']);
    // Where a target's actions run is in the audit log with each change.
    const audited = await h.stack.pool.query<{ details: { pool: string | null } }>(
      "SELECT details FROM audit_log WHERE action = 'inventory.group.create' AND object_id = 'Site B'",
    );
    expect(audited.rows.map((r) => r.details.pool)).toEqual(['site-b']);

    // A parent group's pool yields to its child's; unrelated groups that disagree leave the target undecided.
    const admin = (body: unknown) => requestJson(`${api.apiUrl}/api/inventory/groups`, { token: h.admin.token, body });
    expect((await admin({ name: 'Parent', children: ['Site B'], pool: 'site-z' })).status).toBe(201);
    expect((await admin({ name: 'Other', targets: [names(SITE_A)[0]], pool: 'site-z' })).status).toBe(201);
    const again = await requestJson<{
      targets: { name: string; executorPool?: string; poolConflict?: string[] }[];
    }>(`${api.apiUrl}/api/inventory/targets`, { token: operator.token });
    const byName = new Map(again.body.targets.map((t) => [t.name, t]));
    for (const name of names(SITE_B)) expect(byName.get(name)?.executorPool).toBe('site-b');
    expect(byName.get(names(SITE_A)[0]!)?.poolConflict).toEqual(['site-a', 'site-z']);
    const refused = await requestJson<{ error: { issues: { path: string; message: string }[] } }>(
      `${api.apiUrl}/api/jobs`,
      {
        token: operator.token,
        body: {
          draft: {
            name: 'look',
            steps: [{ id: 'look', tool: 'run-command', params: { program: 'uptime' }, targets: { group: 'Site A' } }],
          },
        },
      },
    );
    expect(refused.status).toBe(422);
    expect(refused.body.error.issues).toContainEqual({
      path: 'draft.steps.0.targets',
      message: `${names(SITE_A)[0]} is in groups of different executor pools (site-a, site-z): give the target its own pool`,
    });
    for (const group of ['Parent', 'Other'])
      expect(
        (
          await requestJson(`${api.apiUrl}/api/inventory/groups/${encodeURIComponent(group)}`, {
            token: h.admin.token,
            method: 'DELETE',
          })
        ).status,
      ).toBe(204);
  });

  it('refuses a job on a pool no executor polls, naming the step and the pool', async () => {
    // Only site-a is served: the step's site-b targets make the plan invalid, before anything runs.
    siteA = await startExecutor('site-a');
    const res = await requestJson<{ error: { type: string; issues: { path: string; message: string }[] } }>(
      `${api.apiUrl}/api/jobs`,
      { token: operator.token, body: { draft: appendOnBoth('/tmp/never') } },
    );
    expect(res.status).toBe(422);
    expect(res.body.error.issues, JSON.stringify(res.body)).toEqual([
      {
        path: 'draft.steps.0.targets',
        message: expect.stringMatching(
          /^no executor of pool "site-b" is polling \(.+\): start one with EXECUTOR_POOL=site-b/,
        ),
      },
    ]);
    expect(await linesOn([...SITE_A, ...SITE_B], '/tmp/never')).toEqual(Array(SIZE).fill(''));
    expect(await sshCommandsOf(siteA)).toBe(0);
  });

  it("runs each pool's targets only on that pool's executors", async () => {
    siteB = await startExecutor('site-b');
    const fallback = await startExecutor('executor');
    const created = await submitDraft(api.apiUrl, operator.token, appendOnBoth('/tmp/pools'));
    await approve(created);
    const job = await waitForJob(api.apiUrl, operator.token, created.id, undefined, 120_000);
    expect(job.status).toBe('completed');
    expect(await linesOn([...SITE_A, ...SITE_B], '/tmp/pools')).toEqual(Array(SIZE).fill('applied\n'));
    // Each pool's executor ran its own pool's targets, and the default pool's executor none.
    const [ranA, ranB, ranDefault] = [
      await sshCommandsOf(siteA),
      await sshCommandsOf(siteB),
      await sshCommandsOf(fallback),
    ];
    expect(ranA).toBe(SITE_A.length);
    expect(ranB).toBe(SITE_B.length);
    expect(ranDefault).toBe(0);
    await fallback.service.stop();
  }, 180_000);

  it('refuses, at the executor, a target of another pool however the activity got to it', async () => {
    const { body } = await requestJson<{ id: string }>(`${api.apiUrl}/api/jobs`, {
      token: operator.token,
      body: {
        draft: {
          name: 'look at site a',
          steps: [{ id: 'look', tool: 'run-command', params: { program: 'uptime' }, targets: { group: 'Site A' } }],
        },
      },
    });
    const { rows } = await h.stack.pool.query<{
      plan: Plan;
      resolved_targets: { targets: { id: string; name: string; pool?: string }[] };
    }>('SELECT plan, resolved_targets FROM jobs WHERE id = $1', [body.id]);
    const step = rows[0]!.plan.steps[0]!;
    const target = rows[0]!.resolved_targets.targets[0]!;
    expect(target.pool).toBe('site-a');
    const request = {
      workflowId: body.id,
      jobId: body.id,
      stepId: step.id,
      target,
      timeoutSeconds: step.timeoutSeconds,
      method: step.action.method as 'ssh',
      fields: executionFields(step.action),
    };
    const verdict = (pool: string) =>
      createJobGate(executorDb, { pool })
        .admit(request)
        .then(
          () => 'admitted',
          (err: Error & { type?: string }) => `${err.type}: ${err.message}`,
        );
    expect(await verdict('site-a')).toBe('admitted');
    expect(await verdict('site-b')).toMatch(
      /^Forbidden: .*is in executor pool site-a; this executor serves pool site-b/,
    );
    expect(await verdict('executor')).toMatch(
      /^Forbidden: .*is in executor pool site-a; this executor serves pool executor/,
    );
    // What runs on the executor itself never runs from a site's executor, even as a site target's undo.
    const asHttp = await createJobGate(executorDb, { pool: 'site-a' })
      .admit({ ...request, method: 'http', fields: { url: 'http://127.0.0.1:9/', httpMethod: 'GET', headers: {} } })
      .then(
        () => 'admitted',
        (err: Error & { type?: string }) => `${err.type}: ${err.message}`,
      );
    expect(asHttp).toMatch(
      /^Forbidden: .*a http action runs on the default pool's executors; this executor serves pool site-a/,
    );
    await waitForJob(api.apiUrl, operator.token, body.id, undefined, 60_000);
  });

  it('keeps a pool to its own tenant: another tenant naming the same pool reaches none of its executors', async () => {
    // globex, another tenant, names pool site-a on a target of its own: a listener that counts connections.
    const connections: number[] = [];
    const listener = net.createServer((socket) => {
      connections.push(Date.now());
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    try {
      const port = (listener.address() as net.AddressInfo).port;
      const globexAdmin = await h.stack.createUser('admin', { tenant: 'globex' });
      const globex = await h.stack.createUser('operator', { tenant: 'globex' });
      const post = async (p: string, body: unknown) =>
        expect((await requestJson(`${api.apiUrl}${p}`, { token: globexAdmin.token, body })).status).toBe(201);
      await post('/api/credentials', {
        name: 'g',
        username: 'g',
        secret: { kind: 'password', password: 'g-secret-1' },
      });
      await post('/api/inventory/targets', {
        name: 'inside-acme',
        address: '127.0.0.1',
        os: 'linux',
        pool: 'site-a',
        services: [{ protocol: 'ssh', port, credential: 'g' }],
      });
      const plan = {
        name: 'look inside',
        steps: [
          {
            id: 's',
            name: 'status',
            targets: { targets: ['inside-acme'] },
            maxAttempts: 1,
            action: { method: 'ssh', operation: { op: 'service', action: 'status', name: 'nginx' } },
          },
        ],
      };
      // acme's site-a executors poll acme's queue of the pool only: for globex the pool has no executor.
      const res = await requestJson<{ error: { issues: { path: string; message: string }[] } }>(
        `${api.apiUrl}/api/jobs`,
        { token: globex.token, body: { plan } },
      );
      // A raw plan's targets are resolved with the job: an unserved pool is invalid input there (400).
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error.issues).toEqual([
        { path: 'plan.steps.0.targets', message: expect.stringMatching(/^no executor of pool "site-a" is polling/) },
      ]);
      expect(connections).toEqual([]);

      // And were a globex job's activity to reach acme's executor anyway, its gate refuses it. (A job on a
      // target of the default pool, which no executor serves now: it only waits.)
      await post('/api/inventory/targets', {
        name: 'globex-plain',
        address: '127.0.0.1',
        os: 'linux',
        services: [{ protocol: 'ssh', port, credential: 'g' }],
      });
      const waiting = await requestJson<{ id: string }>(`${api.apiUrl}/api/jobs`, {
        token: globex.token,
        body: { plan: { ...plan, steps: [{ ...plan.steps[0]!, targets: { targets: ['globex-plain'] } }] } },
      });
      expect(waiting.status, JSON.stringify(waiting.body)).toBe(201);
      const forged = waiting.body.id;
      const recorded = await h.stack.pool.query<{ resolved_targets: { targets: { id: string; name: string }[] } }>(
        'SELECT resolved_targets FROM jobs WHERE id = $1',
        [forged],
      );
      const verdict = await createJobGate(executorDb, { pool: 'site-a', tenants: [operator.tenantId] })
        .admit({
          workflowId: forged,
          jobId: forged,
          stepId: 's',
          target: recorded.rows[0]!.resolved_targets.targets[0]!,
          timeoutSeconds: 300,
          method: 'ssh',
          fields: {},
        })
        .then(
          () => 'admitted',
          (err: Error & { type?: string }) => `${err.type}: ${err.message}`,
        );
      expect(verdict).toMatch(/^Forbidden: .*is of a tenant pool site-a's executors do not serve/);
    } finally {
      listener.close();
    }
  });

  it('shows targets of a pool gone quiet as waiting for it, and finishes once an executor of it is back', async () => {
    siteB.service.kill('SIGKILL');
    await siteB.service.exited;
    // The job was valid when submitted (site-b was served moments ago): it runs, and site-b's targets wait.
    const created = await submitDraft(api.apiUrl, operator.token, appendOnBoth('/tmp/quiet'));
    await approve(created);
    const waiting = await eventually(
      async () => {
        const { body } = await requestJson<{ progress?: { waiting?: { pool: string; targets: string[] }[] } }>(
          `${api.apiUrl}/api/jobs/${created.id}`,
          { token: operator.token },
        );
        return body.progress?.waiting?.length ? body.progress.waiting : undefined;
      },
      150_000,
      "site-b's targets to show as waiting for an executor of it",
    );
    expect(waiting).toEqual([{ pool: 'site-b', targets: names(SITE_B) }]);
    // The monitor says so: site-b's targets wait, they are not counted as running.
    const browser = await launchChromium();
    h.base.onClose(() => browser.close());
    const { page, problems } = await openUserPage(browser, webUrl);
    await signIn(page, 'acme', 'pool-operator', PASSWORD);
    await page.goto(`/jobs/${created.id}`);
    await page.getByTestId('pool-waiting').waitFor();
    expect(await page.getByTestId('pool-waiting').textContent()).toMatch(
      new RegExp(`^Waiting for an executor of pool site-b: ${names(SITE_B).join(', ')}\\.`),
    );
    for (const name of names(SITE_B))
      expect(await page.locator(`tr[data-target="${name}"] [data-testid=target-state]`).textContent()).toBe(
        'waiting for an executor of pool site-b',
      );
    expect(await page.getByTestId('target-counts').getAttribute('data-waiting')).toBe(String(SITE_B.length));
    await screenshot(page, 'job-pool-waiting');
    expect(await linesOn(SITE_A, '/tmp/quiet')).toEqual(SITE_A.map(() => 'applied\n'));
    expect(await linesOn(SITE_B, '/tmp/quiet')).toEqual(SITE_B.map(() => ''));
    siteB = await startExecutor('site-b');
    const job = await waitForJob(api.apiUrl, operator.token, created.id, undefined, 120_000);
    expect(job.status).toBe('completed');
    expect(job.progress?.waiting).toBeUndefined();
    await page.locator('[data-testid=pool-waiting]').waitFor({ state: 'detached' });
    expect(problems).toEqual([]);
    expect(await linesOn([...SITE_A, ...SITE_B], '/tmp/quiet')).toEqual(Array(SIZE).fill('applied\n'));
  }, 300_000);

  it('loses and doubles nothing when one of two executors of a pool is SIGKILLed mid-job', async () => {
    const second = await startExecutor('site-a');
    const created = await submitDraft(api.apiUrl, operator.token, {
      ...appendOnBoth('/tmp/shared', 6),
      steps: [{ ...appendOnBoth('/tmp/shared', 6).steps[0]!, targets: { group: 'Site A' } }],
    });
    await approve(created);
    await eventually(
      async () => ((await linesOn(SITE_A, '/tmp/shared')).every((l) => l === 'applied\n') ? true : undefined),
      60_000,
      'the change to land on every site-a host',
    );
    // Both executors poll the pool's queue; one that is running some of the targets dies now, and
    // the other takes its targets over (their retries find the run markers the first attempts left).
    const pids = await runningOn(created.id);
    const busy = [siteA, second].find((e) => pids.includes(e.service.pid))!;
    expect(busy).toBeDefined();
    busy.service.kill('SIGKILL');
    await busy.service.exited;
    const job = await waitForJob(api.apiUrl, operator.token, created.id, undefined, 120_000);
    expect(job.status).toBe('completed');
    expect(job.progress!.matrix).toEqual(['SSS']);
    expect(await linesOn(SITE_A, '/tmp/shared')).toEqual(SITE_A.map(() => 'applied\n'));
    expect(job.results.filter((r) => r.stepId === 'append')).toHaveLength(SITE_A.length);
    // The dead executor's targets were run again by the other one, which found their run markers.
    const retried = job.results.filter((r) => (r.attempt ?? 0) >= 2);
    expect(retried.length).toBeGreaterThan(0);
    for (const r of retried) expect(r.stdout).toMatch(/^already done by attempt 1 at .*; not run again/);
  }, 240_000);
});
