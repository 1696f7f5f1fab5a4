import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAppliedOnce, startAppendRollout, type AppendRollout } from '../support/durable-rollout.js';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.js';
import type { RunningOrchestrator } from '../support/stack.js';

// Workers die mid-rollout over real sshd hosts. Each time the job finishes, no target's step is lost,
// and a change that is not idempotent (appending a line) lands once per host: the retried step finds
// the run marker its first attempt left on the host, and waits for it or reports it.
const SIZE = 3;
let h: SshHarness;
let api: RunningOrchestrator;
let rollout: AppendRollout;

beforeAll(async () => {
  h = await startSshHarness('rollout-durability', { size: SIZE, groups: { Durable: [0, 1, 2] } });
  // A short heartbeat timeout, so a dead executor's steps are retried within seconds.
  api = await h.stack.startOrchestrator({ JOB_HEARTBEAT_TIMEOUT_SECONDS: '4' });
  rollout = {
    h,
    group: 'Durable',
    operator: await h.stack.createUser('operator', { tenant: 'acme' }),
    approver: await h.stack.createUser('approver', { tenant: 'acme' }),
  };
}, 240_000);

afterAll(async () => {
  await h?.close();
});

describe('a rollout outlives its workers', () => {
  it('finishes after the executor worker is SIGKILLed mid-step, without applying the change twice', async () => {
    const first = await h.stack.startExecutor();
    const created = await startAppendRollout(rollout, api.apiUrl, '/tmp/executor-killed', 8);
    first.service.kill('SIGKILL');
    await first.service.exited;
    const second = await h.stack.startExecutor();
    const job = await expectAppliedOnce(rollout, api.apiUrl, created.id, '/tmp/executor-killed');
    // The second executor's attempt found the first one's marker and did not run the script again.
    for (const r of job.results.filter((x) => x.stepId === 'append')) {
      expect(r.attempt, r.target.name).toBeGreaterThanOrEqual(2);
      expect(r.stdout).toMatch(/^already done by attempt 1 at .*; not run again/);
    }
    await second.service.stop();
  }, 180_000);

  it('finishes after every orchestrator worker is SIGKILLed mid-step and one comes back', async () => {
    const executor = await h.stack.startExecutor();
    const created = await startAppendRollout(rollout, api.apiUrl, '/tmp/orchestrator-killed', 5);
    for (const o of [api, h.orchestrator]) {
      o.service.kill('SIGKILL');
      await o.service.exited;
    }
    api = await h.stack.startOrchestrator({ JOB_HEARTBEAT_TIMEOUT_SECONDS: '4' });
    const job = await expectAppliedOnce(rollout, api.apiUrl, created.id, '/tmp/orchestrator-killed');
    for (const r of job.results.filter((x) => x.stepId === 'append')) expect(r.attempt).toBe(1);
    await executor.service.stop();
  }, 180_000);
});
