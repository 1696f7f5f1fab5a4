import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, waitForJob } from '../support/api.js';
import { control, submitDraft, type Created } from '../support/rollout.js';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.js';
import type { RunningExecutor } from '../support/stack.js';

// SIGTERM to an executor (Docker's stop, a rolling update): it takes no new step, lets the running
// ones finish for EXECUTOR_SHUTDOWN_GRACE_SECONDS while its /health answers 503 "stopping", then
// exits 0. A step still running at the end of the grace is handed back, and another executor ends
// it without applying the change twice (the target's run marker).
let h: SshHarness;
let operator: { token: string };
let approver: { token: string };

const tmpFile = (name: string) => `/tmp/${name}-${randomBytes(3).toString('hex')}`;
const appendAround = (file: string, seconds: number) => ({
  id: 'change',
  tool: 'run-script',
  params: { script: `echo started >> ${file}; sleep ${seconds}; echo finished >> ${file}` },
  targets: { group: 'Drain' },
});
const onHost = async (file: string) => (await h.fleet.exec(0, `cat ${file} 2>/dev/null`)).stdout;
/** The step's run marker on the host (docs/run-markers.md): which attempt ran the change, and its exit code. */
const marker = async (jobId: string) => {
  const text = await onHost(`"$HOME/.local/state/opsconductor/runs/${jobId}/change/${h.targetIds[0]}"`);
  return { exit: /^exit=(.*)$/m.exec(text)?.[1], attempt: /^attempt=(.*)$/m.exec(text)?.[1] };
};

const submitApproved = async (name: string, steps: unknown[]): Promise<Created> => {
  const created = await submitDraft(h.orchestrator.apiUrl, operator.token, { name, steps });
  const approved = await control(h.orchestrator.apiUrl, approver.token, created.id, 'approve', {
    planHash: created.planHash,
  });
  expect(approved.status).toBe(200);
  return created;
};

/** The executor's part of the job's step_results (attempt and exit code once it saved them). */
const executorRows = async (jobId: string) =>
  (
    await h.stack.pool.query<{ status: string | null; attempt: number | null; exit_code: number | null }>(
      'SELECT status, attempt, exit_code FROM step_results WHERE job_id = $1',
      [jobId],
    )
  ).rows;

const health = async (executor: RunningExecutor) => {
  const res = await fetch(`${executor.healthUrl}/health`);
  return { status: res.status, body: (await res.json()) as { status: string } };
};

/** Sends SIGTERM and returns, once the running step is underway, what the executor said and how long it took to exit. */
const terminate = async (executor: RunningExecutor) => {
  const at = Date.now();
  executor.service.kill('SIGTERM');
  const stopping = await eventually(
    async () => {
      const answer = await health(executor).catch(() => undefined);
      return answer?.status === 503 ? answer : undefined;
    },
    10_000,
    'the executor to answer "stopping"',
  );
  const exited = await executor.service.exited;
  return { stopping, exited, seconds: (Date.now() - at) / 1000 };
};

beforeAll(async () => {
  h = await startSshHarness('executor-shutdown', { size: 1, groups: { Drain: [0] } });
  operator = await h.stack.createUser('operator', { tenant: 'acme' });
  approver = await h.stack.createUser('approver', { tenant: 'acme' });
}, 240_000);

afterAll(async () => {
  await h?.close();
});

describe('an executor stopped with SIGTERM', () => {
  it('lets the running step finish within the grace, answers "stopping" meanwhile, and exits 0', async () => {
    const executor = await h.stack.startExecutor({ EXECUTOR_SHUTDOWN_GRACE_SECONDS: '40' });
    const file = tmpFile('drain');
    const created = await submitApproved('a step running at shutdown', [appendAround(file, 8)]);
    await eventually(
      async () => ((await onHost(file)) === 'started\n' ? true : undefined),
      60_000,
      'the step to start',
    );

    const { stopping, exited, seconds } = await terminate(executor);
    expect(stopping).toEqual({ status: 503, body: expect.objectContaining({ status: 'stopping' }) });
    expect(exited).toEqual({ code: 0, signal: null });
    expect(seconds).toBeLessThan(40);
    // The step ended on this executor before it exited: once, on its first attempt.
    expect(await onHost(file)).toBe('started\nfinished\n');
    expect(await executorRows(created.id)).toEqual([{ status: 'succeeded', attempt: 1, exit_code: 0 }]);
    expect(await marker(created.id)).toEqual({ exit: '0', attempt: '1' });
    const job = await waitForJob(h.orchestrator.apiUrl, operator.token, created.id, undefined, 30_000);
    expect(job.status).toBe('completed');
    expect(job.results.map((r) => r.status)).toEqual(['succeeded']);
  }, 180_000);

  it('hands back a step still running at the end of the grace: it goes on on its target, another executor ends the job, the change applied once', async () => {
    const first = await h.stack.startExecutor({ EXECUTOR_SHUTDOWN_GRACE_SECONDS: '2' });
    const file = tmpFile('handed-back');
    const created = await submitApproved('a step longer than the grace', [appendAround(file, 12)]);
    await eventually(
      async () => ((await onHost(file)) === 'started\n' ? true : undefined),
      60_000,
      'the step to start',
    );

    const { stopping, exited, seconds } = await terminate(first);
    expect(stopping.body.status).toBe('stopping');
    expect(exited).toEqual({ code: 0, signal: null });
    // The grace, and the time to save what it holds: not the step's 12 s.
    expect(seconds).toBeLessThan(10);
    expect(await onHost(file)).toBe('started\n');

    const second = await h.stack.startExecutor();
    const job = await waitForJob(h.orchestrator.apiUrl, operator.token, created.id, undefined, 120_000);
    expect(job.status).toBe('completed');
    // The second attempt found the first one's run on the host and reported it: the script ran once.
    expect(await onHost(file)).toBe('started\nfinished\n');
    expect(job.results.map((r) => [r.status, r.attempt, r.exitCode])).toEqual([['succeeded', 2, 0]]);
    expect(await executorRows(created.id)).toEqual([{ status: 'succeeded', attempt: 2, exit_code: 0 }]);
    // The change was run by the first attempt alone; the second followed it to its end.
    expect(await marker(created.id)).toEqual({ exit: '0', attempt: '1' });
    expect(job.results[0]!.stderr).toMatch(/following the run of attempt 1/);
    await second.service.stop();
  }, 240_000);
});
