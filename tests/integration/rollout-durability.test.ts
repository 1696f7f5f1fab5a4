import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, waitForJob } from '../support/api.js';
import { control, submitDraft, type Created } from '../support/rollout.js';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.js';
import type { RunningOrchestrator } from '../support/stack.js';

// Workers die mid-rollout over real sshd hosts. Each time the job finishes, no target's step is lost,
// and a change that is not idempotent (appending a line) lands once per host: the retried step finds
// the run marker its first attempt left on the host, and waits for it or reports it.
const SIZE = 3;
let h: SshHarness;
let api: RunningOrchestrator;
let operator: { token: string };
let approver: { token: string };

const group = { group: 'Durable' };
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

const linesOn = async (file: string) =>
  Promise.all(h.fleet.hosts.map(async (_, i) => (await h.fleet.exec(i, `cat ${file}`)).stdout));
const startedActivities = async (jobId: string) => {
  const description = await h.stack.client.workflow.getHandle(jobId).describe();
  // PendingActivityState 2 = STARTED.
  return (description.raw.pendingActivities ?? []).filter((a) => a.state === 2).length;
};
const start = async (file: string, seconds: number): Promise<Created> => {
  const created = await submitDraft(api.apiUrl, operator.token, {
    name: `append to ${file}`,
    steps: [appendThenWait(file, seconds), readBack(file)],
    policies: { maxParallel: SIZE },
  });
  expect(
    (await control(api.apiUrl, approver.token, created.id, 'approve', { planHash: created.planHash })).status,
  ).toBe(200);
  await eventually(
    async () => ((await startedActivities(created.id)) === SIZE ? true : undefined),
    60_000,
    'every host to be running the step',
  );
  await eventually(
    async () => ((await linesOn(file)).every((l) => l === 'applied\n') ? true : undefined),
    30_000,
    'the change to land on every host',
  );
  return created;
};
const expectOnce = async (jobId: string, file: string) => {
  const job = await waitForJob(api.apiUrl, operator.token, jobId, undefined, 120_000);
  expect(job.status).toBe('completed');
  expect(job.progress!.matrix).toEqual(['SSS', 'SSS']);
  expect(await linesOn(file)).toEqual(h.fleet.hosts.map(() => 'applied\n'));
  for (const r of job.results.filter((x) => x.stepId === 'read-back')) expect(r.stdout).toBe('applied\n');
  return job;
};

beforeAll(async () => {
  h = await startSshHarness('rollout-durability', { size: SIZE, groups: { Durable: [0, 1, 2] } });
  // A short heartbeat timeout, so a dead executor's steps are retried within seconds.
  api = await h.stack.startOrchestrator({ JOB_HEARTBEAT_TIMEOUT_SECONDS: '4' });
  operator = await h.stack.createUser('operator', { tenant: 'acme' });
  approver = await h.stack.createUser('approver', { tenant: 'acme' });
}, 240_000);

afterAll(async () => {
  await h?.close();
});

describe('a rollout outlives its workers', () => {
  it('finishes after the executor worker is SIGKILLed mid-step, without applying the change twice', async () => {
    const first = await h.stack.startExecutor();
    const created = await start('/tmp/executor-killed', 8);
    first.service.kill('SIGKILL');
    await first.service.exited;
    const second = await h.stack.startExecutor();
    const job = await expectOnce(created.id, '/tmp/executor-killed');
    // The second executor's attempt found the first one's marker and did not run the script again.
    for (const r of job.results.filter((x) => x.stepId === 'append')) {
      expect(r.attempt, r.target.name).toBeGreaterThanOrEqual(2);
      expect(r.stdout).toMatch(/^already done by attempt 1 at .*; not run again/);
    }
    await second.service.stop();
  }, 180_000);

  it('finishes after every orchestrator worker is SIGKILLed mid-step and one comes back', async () => {
    const executor = await h.stack.startExecutor();
    const created = await start('/tmp/orchestrator-killed', 5);
    for (const o of [api, h.orchestrator]) {
      o.service.kill('SIGKILL');
      await o.service.exited;
    }
    api = await h.stack.startOrchestrator({ JOB_HEARTBEAT_TIMEOUT_SECONDS: '4' });
    const job = await expectOnce(created.id, '/tmp/orchestrator-killed');
    for (const r of job.results.filter((x) => x.stepId === 'append')) expect(r.attempt).toBe(1);
    await executor.service.stop();
  }, 180_000);
});
