import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executionFields, type Plan } from '@opsc/contracts';
import { JobDetail } from '@opsc/contracts/api';
import { createJobGate, type ExecutionRequest } from '@opsc/activities/execution';
import { expectAnswer, requestJson, waitForJob, type JobView } from '../support/api.js';
import { control, submitDraft, type Created } from '../support/rollout.js';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.js';

// "Retry failed targets now" on 5 real sshd hosts (docs/retry.md): a step fails on 2 of them for a
// reason the test then fixes there; the operator chooses retry; the 2 run the step again (counted on
// the hosts) and the job completes, every other host having run each step once. The executor's gate
// admits re-run n only where the recorded retry decision allows it. Then a retry that fails again,
// and a rollback that undoes each host's change once.
const SIZE = 5;
const FAILING = [1, 3];
const hold = '/tmp/hold';

let h: SshHarness;
let apiUrl: string;
let operator: { token: string };
let approver: { token: string };
let executorPool: pg.Pool;

const draft = (tag: string) => ({
  name: `retry now ${tag}`,
  policies: { rollback: 'none', continueOnFailure: false, onFailThreshold: 'ask', maxParallel: SIZE },
  steps: [
    {
      id: 'one',
      tool: 'run-script',
      params: { script: `echo one >> /tmp/${tag}-one.count` },
      targets: { group: 'Fleet' },
    },
    { id: 'stop', tool: 'service-stop', params: { service: 'nginx' }, targets: { group: 'Fleet' } },
    {
      id: 'two',
      tool: 'run-script',
      params: {
        script: `echo "two on $(hostname)"; echo two >> /tmp/${tag}-two.count; while [ -e ${hold} ]; do sleep 0.2; done; test ! -e /tmp/${tag}-fault`,
      },
      targets: { group: 'Fleet' },
    },
    { id: 'start', tool: 'service-start', params: { service: 'nginx' }, targets: { group: 'Fleet' } },
  ],
});

const sh = async (i: number, script: string) => expect((await h.fleet.exec(i, script)).code).toBe(0);
const name = (i: number) => h.fleet.hosts[i]!.name;
const all = <T>(f: (i: number) => Promise<T>) => Promise.all(Array.from({ length: SIZE }, (_, i) => f(i)));
const count = async (i: number, file: string) =>
  Number((await h.fleet.exec(i, `cat ${file} 2>/dev/null | wc -l`)).stdout.trim());
const starts = async (i: number) =>
  (await h.fleet.readJournal(i)).filter((e) => e.action === 'start' && e.unit === 'nginx').length;
const nginx = async (i: number) => (await h.fleet.exec(i, 'systemctl is-active nginx')).stdout.trim();
const column = (job: Pick<JobView, 'progress'>, i: number) =>
  job.progress!.matrix.map((row) => row[job.progress!.targets.indexOf(name(i))]).join('');
const decide = (id: string, choice: string) => control(apiUrl, operator.token, id, 'decide', { choice });

const startAsking = async (tag: string): Promise<Created> => {
  for (const i of FAILING) await sh(i, `touch /tmp/${tag}-fault`);
  const created = await submitDraft(apiUrl, operator.token, draft(tag));
  await waitForJob(apiUrl, operator.token, created.id, (j) => j.status === 'awaiting_approval', 30_000);
  expect((await control(apiUrl, approver.token, created.id, 'approve', { planHash: created.planHash })).status).toBe(
    200,
  );
  return created;
};
const asked = (id: string, rerun: number) =>
  waitForJob(
    apiUrl,
    operator.token,
    id,
    (j) => j.status === 'awaiting_decision' && j.progress?.decision?.retry?.rerun === rerun,
    120_000,
  );

beforeAll(async () => {
  h = await startSshHarness('retry-now', { size: SIZE, groups: { Fleet: [0, 1, 2, 3, 4] } });
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

describe('retry failed targets now, inside the same run', () => {
  it('runs the step again on the 2 hosts that failed it, once fixed; the job completes; the gate admits only what the decision allows', async () => {
    const created = await startAsking('fixed');
    const waiting = await asked(created.id, 1);
    expect(waiting.progress!.decision!.retry).toEqual({
      stepId: 'two',
      rerun: 1,
      targets: FAILING.map(name),
    });
    expect(waiting.progress!.steps[2]!.targets.failed).toBe(2);
    expect(FAILING.map((i) => column(waiting, i))).toEqual(['SSF.', 'SSF.']);

    // The condition is fixed on the failing hosts; host 1's re-run holds so it is seen running again.
    for (const i of FAILING) await sh(i, 'rm -f /tmp/fixed-fault');
    await sh(1, `touch ${hold}`);
    const answer = await decide(created.id, 'retry');
    expect(answer.status).toBe(200);
    expect(answer.body.message).toBe('retrying 2 failed target(s)');
    const running = await waitForJob(
      apiUrl,
      operator.token,
      created.id,
      (j) => column(j, 1) === 'SS>.' && column(j, 3) !== 'SSF.' && column(j, 3) !== 'SS>.',
      60_000,
    );
    expect(running.progress!.steps[2]!.targets).toMatchObject({ failed: 0, running: 1 });

    // The executor's gate, as the executor sees it, while host 1 runs re-run 1.
    const gate = createJobGate(executorPool);
    const { body } = await requestJson(`${apiUrl}/api/jobs/${created.id}`, { token: operator.token });
    const plan: Plan = (expectAnswer(JobDetail, body, 'GET job') as unknown as JobDetail).plan;
    const two = plan.steps.find((s) => s.id === 'two')!;
    const target = (i: number) => running.targets.find((t) => t.name === name(i))!;
    const request = (i: number, rerun: number): ExecutionRequest => ({
      workflowId: created.id,
      jobId: created.id,
      stepId: 'two',
      target: target(i),
      timeoutSeconds: two.timeoutSeconds,
      rerun,
      method: two.action.method,
      fields: executionFields(two.action),
    });
    const verdict = (p: Promise<void>) =>
      p.then(
        () => 'admitted',
        (err: Error) => err.message,
      );
    // An activity retry of the re-run in flight: admitted (its run marker makes it report, not run again).
    expect(await verdict(gate.admit(request(1, 1)))).toBe('admitted');
    // A host that did not fail the step: refused.
    expect(await verdict(gate.admit(request(0, 1)))).toMatch(/did not fail on/);
    // A re-run no decision on record allows: refused.
    expect(await verdict(gate.admit(request(1, 2)))).toMatch(/no retry decision/);
    expect(await verdict(gate.admit(request(1, 7)))).toMatch(/is not a re-run/);
    // A forged undo posing as a re-run: refused.
    expect(await verdict(gate.admit({ ...request(1, 1), stepId: 'two.rollback' }))).toMatch(
      /never run again|has no undo/,
    );

    await h.fleet.exec(1, `rm -f ${hold}`);
    const done = await waitForJob(apiUrl, operator.token, created.id, undefined, 120_000);
    expect(done.status).toBe('completed');
    expect(Array.from({ length: SIZE }, (_, i) => column(done, i))).toEqual(Array<string>(SIZE).fill('SSSS'));
    // Counted on the hosts: each step once, and the failing step twice on the two fixed hosts.
    expect(await all((i) => count(i, '/tmp/fixed-one.count'))).toEqual([1, 1, 1, 1, 1]);
    expect(await all((i) => count(i, '/tmp/fixed-two.count'))).toEqual([1, 2, 1, 2, 1]);
    expect(await all(starts)).toEqual([1, 1, 1, 1, 1]);
    expect(await all(nginx)).toEqual(Array<string>(SIZE).fill('active'));

    // On record: the decision in the audit log, the re-run's result and output lines.
    const audit = await h.stack.pool.query<{ actor: string; details: Record<string, unknown> }>(
      "SELECT actor, details FROM audit_log WHERE action = 'job.decide' AND job_id = $1",
      [created.id],
    );
    expect(audit.rows.map((r) => r.details)).toEqual([
      { choice: 'retry', stepId: 'two', rerun: 1, targets: FAILING.map(name) },
    ]);
    const results = await h.stack.pool.query<{ target_name: string; status: string; rerun: number }>(
      "SELECT target_name, status, rerun FROM step_results WHERE job_id = $1 AND step_id = 'two' ORDER BY target_name",
      [created.id],
    );
    expect(results.rows.map((r) => [r.target_name, r.status, r.rerun])).toEqual(
      Array.from({ length: SIZE }, (_, i) => [name(i), 'succeeded', FAILING.includes(i) ? 1 : 0]).sort(),
    );
    const reruns = await h.stack.pool.query<{ rerun: number }>(
      "SELECT DISTINCT rerun FROM output_lines WHERE job_id = $1 AND step_id = 'two' AND target_name = $2 ORDER BY rerun",
      [created.id, name(1)],
    );
    expect(reruns.rows.map((r) => r.rerun)).toEqual([0, 1]);
  });

  it('asks again when the retry fails again (with the retry shown); a rollback then undoes each host once', async () => {
    const created = await startAsking('unfixed');
    await asked(created.id, 1);
    expect((await decide(created.id, 'retry')).status).toBe(200);
    const again = await asked(created.id, 2);
    expect(again.progress!.decision!.reason).toMatch(/after retry 1/);
    expect(again.progress!.decision!.retry).toEqual({ stepId: 'two', rerun: 2, targets: FAILING.map(name) });
    expect(await all((i) => count(i, '/tmp/unfixed-two.count'))).toEqual([1, 2, 1, 2, 1]);

    const rollback = await decide(created.id, 'rollback');
    expect(rollback.status).toBe(200);
    const done = await waitForJob(apiUrl, operator.token, created.id, undefined, 120_000);
    expect(done.status).toBe('failed');
    // Each host's stop undone once (one start of nginx per host since the first scenario's), none done twice.
    expect(await all(starts)).toEqual([2, 2, 2, 2, 2]);
    expect(await all(nginx)).toEqual(Array<string>(SIZE).fill('active'));
    expect(done.results.filter((r) => r.stepId === 'stop.rollback').map((r) => r.status)).toEqual(
      Array<string>(SIZE).fill('succeeded'),
    );
    expect(done.results.some((r) => r.stepId === 'start')).toBe(false);
    const detail = await requestJson(`${apiUrl}/api/jobs/${created.id}`, { token: operator.token });
    expectAnswer(JobDetail, detail.body, 'GET job');
  });
});
