import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Action, executionFields, fillFacts, type Plan } from '@opsc/contracts';
import { JobDetail, RetryCreated } from '@opsc/contracts/api';
import { createJobGate, type ExecutionRequest } from '@opsc/activities/execution';
import { expectAnswer, requestJson, waitForJob, type JobView } from '../support/api.js';
import { control, submitDraft, type Created } from '../support/rollout.js';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.js';

// Retrying what failed, on 3 real sshd hosts: the retry job runs only the hosts that did not get
// through, each from the step where it stopped; what a host completed does not run again (counted
// on the host), a carried change is undone with the facts the earlier job recorded, the executor's
// gate refuses a retry job's forged undo or a rerun of a carried step, and a retry can be retried.
const SIZE = 3;
const FAULTED = 0;

let h: SshHarness;
let apiUrl: string;
let operator: { token: string };
let approver: { token: string };
let executorPool: pg.Pool;

const hold = '/tmp/hold';
const draft = {
  name: 'count, stop, check, start',
  policies: { rollback: 'target', continueOnFailure: false, maxParallel: 1 },
  steps: [
    { id: 'one', tool: 'run-script', params: { script: 'echo one >> /tmp/one.count' }, targets: { group: 'Fleet' } },
    { id: 'stop', tool: 'service-stop', params: { service: 'nginx' }, targets: { group: 'Fleet' } },
    {
      id: 'two',
      tool: 'run-script',
      params: {
        script: `echo two >> /tmp/two.count; while [ -e ${hold} ]; do sleep 0.2; done; test ! -e /tmp/fault`,
      },
      targets: { group: 'Fleet' },
    },
    { id: 'start', tool: 'service-start', params: { service: 'nginx' }, targets: { group: 'Fleet' } },
  ],
};

const lines = async (i: number, file: string) =>
  (await h.fleet.exec(i, `cat ${file} 2>/dev/null | wc -l`)).stdout.trim();
const nginx = async (i: number) => (await h.fleet.exec(i, 'systemctl is-active nginx')).stdout.trim();
const sh = async (i: number, script: string) => expect((await h.fleet.exec(i, script)).code).toBe(0);
const name = (i: number) => h.fleet.hosts[i]!.name;
const column = (job: JobView, i: number) =>
  job.progress!.matrix.map((row) => row[job.progress!.targets.indexOf(name(i))]).join('');

const approve = async (created: { id: string; planHash: string }) => {
  await waitForJob(apiUrl, operator.token, created.id, (j) => j.status === 'awaiting_approval', 30_000);
  const approved = await control(apiUrl, approver.token, created.id, 'approve', { planHash: created.planHash });
  expect(approved.status).toBe(200);
};
const retry = (id: string) =>
  requestJson<RetryCreated & { error?: { type: string; message: string } }>(`${apiUrl}/api/jobs/${id}/retry`, {
    token: operator.token,
    body: {},
  });
const detail = async (id: string) => {
  const { body } = await requestJson(`${apiUrl}/api/jobs/${id}`, { token: operator.token });
  return expectAnswer(JobDetail, body, `GET /api/jobs/${id}`) as unknown as JobDetail;
};

beforeAll(async () => {
  h = await startSshHarness('job-retry', { size: SIZE, groups: { Fleet: [0, 1, 2] } });
  apiUrl = h.orchestrator.apiUrl;
  await h.stack.startExecutor();
  operator = await h.stack.createUser('operator', { tenant: 'acme' });
  approver = await h.stack.createUser('approver', { tenant: 'acme' });
  executorPool = new pg.Pool({ connectionString: h.stack.roleUrls.executor, max: 2 });
}, 240_000);

afterAll(async () => {
  await executorPool?.end();
  await h?.close();
});

describe('retrying the failed targets of a finished job', () => {
  it('runs only what did not get through, from where it stopped; carries undo facts; the gate refuses forgeries; a retry is retried', async () => {
    await sh(FAULTED, 'touch /tmp/fault');
    const created: Created = await submitDraft(apiUrl, operator.token, draft);
    await approve(created);
    const original = await waitForJob(apiUrl, operator.token, created.id, undefined, 120_000);
    // The faulted host failed "two" first and was rolled back (its stop undone; "one" has no undo); the job stopped
    // there, so the other two are left after "stop", nginx stopped.
    expect(original.status).toBe('failed');
    expect(column(original, 0)).toBe('SRF-');
    expect(column(original, 1)).toBe('SS--');
    expect([await nginx(0), await nginx(1), await nginx(2)]).toEqual(['active', 'inactive', 'inactive']);

    // The job page offers the retry before anyone clicks: which hosts, from which step.
    const offered = await detail(original.id);
    expect(offered.retry.available.map((r) => [r.target, r.stepNumber, r.rolledBack])).toEqual([
      [name(0), 1, true],
      [name(1), 3, false],
      [name(2), 3, false],
    ]);

    // The fault is cleared on the host that failed; another host now fails "two" in the retry.
    await sh(FAULTED, 'rm -f /tmp/fault');
    await sh(1, 'touch /tmp/fault');
    await sh(0, `touch ${hold}`);
    const first = await retry(original.id);
    expect(first.status).toBe(201);
    expectAnswer(RetryCreated, first.body, 'POST retry');
    expect(first.body).toMatchObject({ retryOf: original.id, rootJobId: original.id, planHash: original.planHash });
    // One retry of a job at a time.
    const twice = await retry(original.id);
    expect(twice.status).toBe(409);
    expect(twice.body.error?.message).toMatch(/being retried already as job-/);
    await approve(first.body);

    // While the retry holds on the first host's "two": the executor's gate, as the executor sees it.
    const running = await waitForJob(
      apiUrl,
      operator.token,
      first.body.id,
      (j) => column(j as JobView, 0) === 'SS>.',
      60_000,
    );
    expect(running.progress?.retryOf).toEqual({ jobId: original.id, rootJobId: original.id });
    expect(running.progress?.steps.map((s) => s.targets.doneBefore)).toEqual([2, 2, 0, 0]);
    const gate = createJobGate(executorPool);
    const plan: Plan = (await detail(first.body.id)).plan;
    const stop = plan.steps.find((s) => s.id === 'stop')!;
    const host1 = original.targets.find((t) => t.name === name(1))!;
    const factsInOriginal = original.results.find((r) => r.stepId === 'stop' && r.target.id === host1.id)!.facts!;
    const undoWith = (facts: Record<string, string>) => Action.parse(fillFacts(stop.rollback!.action, facts));
    const request = (stepId: string, action: Action): ExecutionRequest => ({
      workflowId: first.body.id,
      jobId: first.body.id,
      stepId,
      target: host1,
      timeoutSeconds: stop.timeoutSeconds,
      method: action.method,
      fields: executionFields(action),
    });
    const verdict = (p: Promise<void>) =>
      p.then(
        () => 'admitted',
        (err: Error) => err.message,
      );
    // The carried step's undo, filled with what the original job recorded there: admitted.
    expect(await verdict(gate.admit(request('stop.rollback', undoWith(factsInOriginal))))).toBe('admitted');
    // Another service under the same undo: refused.
    const forgedUndo = Action.parse(
      JSON.parse(JSON.stringify(undoWith(factsInOriginal)).replaceAll('"nginx"', '"sshd"')) as unknown,
    );
    expect(await verdict(gate.admit(request('stop.rollback', forgedUndo)))).toMatch(/is not what step stop.rollback/);
    // The carried step itself, again: refused (it stands from the original job).
    expect(await verdict(gate.admit(request('stop', stop.action)))).toMatch(
      new RegExp(`stands on ${name(1)} from job ${original.id}`),
    );
    await h.fleet.exec(0, `rm -f ${hold}`);
    const second = await waitForJob(apiUrl, operator.token, first.body.id, undefined, 120_000);
    // Host 0 ran its steps again from the first (its changes had been undone) up to "start", which
    // the job never reached; host 1 started at "two", failed, and its rollback undid the stop it
    // carried, with the original job's facts; host 2 was left after the steps it carries.
    expect(second.status).toBe('failed');
    expect(column(second, 0)).toBe('SSS-');
    expect(column(second, 1)).toBe('DRF-');
    expect(column(second, 2)).toBe('DD--');
    expect(second.results.filter((r) => r.stepId === 'stop').map((r) => r.target.name)).toEqual([name(0)]);
    expect(second.results.filter((r) => r.stepId === 'stop.rollback').map((r) => [r.target.name, r.status])).toEqual([
      [name(1), 'succeeded'],
    ]);
    expect([await nginx(0), await nginx(1), await nginx(2)]).toEqual(['inactive', 'active', 'inactive']);
    // Retrying the original again would repeat what the retry did: refused; the retry is retried instead.
    expect((await retry(original.id)).status).toBe(409);

    await sh(1, 'rm -f /tmp/fault');
    const third = await retry(second.id);
    expect(third.status).toBe(201);
    expect(third.body).toMatchObject({ retryOf: second.id, rootJobId: original.id });
    expect(third.body.retried.map((r) => [r.target, r.stepId, r.carried])).toEqual([
      [name(0), 'start', { one: second.id, stop: second.id, two: second.id }],
      [name(1), 'one', {}],
      [name(2), 'two', { one: original.id, stop: original.id }],
    ]);
    await approve(third.body);
    const last = await waitForJob(apiUrl, operator.token, third.body.id, undefined, 120_000);
    expect(last.status).toBe('completed');
    expect(column(last, 0)).toBe('DDDS');
    expect(column(last, 1)).toBe('SSSS');
    expect(column(last, 2)).toBe('DDSS');

    // What each host ran, counted on the host: no completed step ran twice.
    expect([
      await lines(0, '/tmp/one.count'),
      await lines(1, '/tmp/one.count'),
      await lines(2, '/tmp/one.count'),
    ]).toEqual(['2', '2', '1']);
    expect([
      await lines(0, '/tmp/two.count'),
      await lines(1, '/tmp/two.count'),
      await lines(2, '/tmp/two.count'),
    ]).toEqual(['2', '2', '1']);
    expect([await nginx(0), await nginx(1), await nginx(2)]).toEqual(['active', 'active', 'active']);

    // Who may retry: an operator of the job's tenant; a viewer is refused, another tenant sees no job,
    // and a body field the route does not take is named.
    const viewer = await h.stack.createUser('viewer', { tenant: 'acme' });
    const stranger = await h.stack.createUser('operator', { tenant: 'globex' });
    const as = (token: string, body: unknown = {}) =>
      requestJson<{ error: { type: string; message: string; issues?: { path: string }[] } }>(
        `${apiUrl}/api/jobs/${last.id}/retry`,
        { token, body },
      );
    expect((await as(viewer.token)).status).toBe(403);
    expect((await as(stranger.token)).status).toBe(404);
    const extra = await as(operator.token, { targets: ['everything'] });
    expect(extra.status).toBe(400);
    expect(JSON.stringify(extra.body.error)).toContain('targets');
    // A completed job has nothing to retry.
    expect((await as(operator.token)).body.error.message).toMatch(/completed on every target; nothing to retry/);

    // Both ends of each link, and the audit log.
    const linked = await detail(original.id);
    expect(linked.retry.retriedAs.map((r) => r.id)).toEqual([second.id]);
    const middle = await detail(second.id);
    expect(middle.retry).toMatchObject({ retryOf: original.id, retriedAs: [{ id: last.id }] });
    expect(middle.origin).toEqual({ kind: 'retry', jobId: original.id });
    const { rows } = await h.stack.pool.query<{ object_id: string; details: { retryOf: string } }>(
      `SELECT object_id, details FROM audit_log WHERE action = 'job.retry' ORDER BY id`,
    );
    expect(rows.map((r) => [r.object_id, r.details.retryOf])).toEqual([
      [second.id, original.id],
      [last.id, second.id],
    ]);
  }, 600_000);
});
