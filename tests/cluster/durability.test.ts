import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FRONTENDS } from '@opsc/temporal/cluster';
import { eventually } from '../support/api.js';
import {
  expectAppliedOnce,
  startAppendRollout,
  waitUntilFinishedOnHosts,
  type AppendRollout,
} from '../support/durable-rollout.js';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.js';
import { cluster } from './control.js';

// The durability cases against a production-shaped Temporal (tests/cluster/global-setup.ts): the
// real orchestrator and executor processes, a real sshd fleet, and a part of the cluster that dies
// while every host runs a step whose change is not idempotent. The fault lasts until the command has
// ended on every host, so its result comes back while the part is gone. Each time the job completes,
// every target of every step succeeded, and each host's file holds the change once.
const SIZE = 3;
let h: SshHarness;
let rollout: AppendRollout;
const file = (name: string) => `/tmp/cluster-${name}-${randomBytes(3).toString('hex')}`;

/** The job's description as the cluster gives it, or the error it gives instead. */
const describeJob = (jobId: string) =>
  h.stack.client.workflow
    .getHandle(jobId)
    .describe()
    .then(
      () => 'answers',
      (err: Error) => err.message,
    );

beforeAll(async () => {
  await cluster.ready();
  h = await startSshHarness('cluster', { size: SIZE, groups: { Cluster: [0, 1, 2] } });
  await h.stack.startExecutor();
  rollout = {
    h,
    group: 'Cluster',
    operator: await h.stack.createUser('operator', { tenant: 'acme' }),
    approver: await h.stack.createUser('approver', { tenant: 'acme' }),
  };
}, 240_000);

afterAll(async () => {
  await h?.close();
});

// Whatever a case did, the next one starts on a whole cluster.
afterEach(async () => {
  await cluster.startPostgres();
  for (const service of ['history', ...FRONTENDS] as const) {
    if (!(await cluster.state()).pids[service]) await cluster.start(service);
  }
  await cluster.ready();
}, 120_000);

describe('jobs on a Temporal cluster outlive its parts', () => {
  it('finishes a rollout whose history service was SIGKILLed mid-step and restarted', async () => {
    const target = file('history');
    const created = await startAppendRollout(rollout, h.orchestrator.apiUrl, target, 4);
    const before = (await cluster.state()).pids.history;
    const killed = await cluster.kill('history', 'SIGKILL');
    expect(killed.pids.history).toBeUndefined();
    // With no history service the cluster cannot answer for the job; meanwhile the command ends.
    expect(await describeJob(created.id)).not.toBe('answers');
    await waitUntilFinishedOnHosts(rollout, target);
    const restarted = await cluster.start('history');
    expect(restarted.pids.history).toBeDefined();
    expect(restarted.pids.history).not.toBe(before);
    await expectAppliedOnce(rollout, h.orchestrator.apiUrl, created.id, target);
  }, 240_000);

  it('finishes a rollout whose busiest frontend was stopped mid-step; the stack goes on through the other', async () => {
    const target = file('frontend');
    const created = await startAppendRollout(rollout, h.orchestrator.apiUrl, target, 4);
    // The frontend carrying the most of the stack's connections through the balancer now.
    const { balancer } = await cluster.state();
    const [busiest, other] = [...FRONTENDS].sort((a, b) => (balancer[b]?.sessions ?? 0) - (balancer[a]?.sessions ?? 0));
    expect(balancer[busiest!]?.sessions).toBeGreaterThan(0);
    const stopped = await cluster.kill(busiest!, 'SIGTERM');
    expect(stopped.pids[busiest!]).toBeUndefined();
    await eventually(
      async () => ((await cluster.state()).balancer[busiest!]?.status === 'DOWN' ? true : undefined),
      10_000,
      `the balancer to mark ${busiest} down`,
    );
    await waitUntilFinishedOnHosts(rollout, target);
    // New work reaches the cluster too, while one frontend is gone.
    const second = file('frontend-second');
    const next = await startAppendRollout(rollout, h.orchestrator.apiUrl, second, 1);
    await expectAppliedOnce(rollout, h.orchestrator.apiUrl, created.id, target);
    await expectAppliedOnce(rollout, h.orchestrator.apiUrl, next.id, second);
    const after = await cluster.state();
    expect(after.balancer[busiest!]?.status).toBe('DOWN');
    expect(after.balancer[other!]?.status).toBe('UP');
    // The connections the stop cut were opened again, to the frontend that is left.
    expect(after.balancer[other!]?.sessions).toBeGreaterThanOrEqual(balancer[busiest!]?.sessions ?? 1);
  }, 240_000);

  it('finishes a rollout whose PostgreSQL was restarted mid-step', async () => {
    const target = file('postgres');
    const created = await startAppendRollout(rollout, h.orchestrator.apiUrl, target, 4);
    const stopped = await cluster.stopPostgres();
    // The Temporal services stay up without their database; their work waits for it.
    expect(Object.keys(stopped.pids).sort()).toEqual(['frontend-a', 'frontend-b', 'history', 'matching', 'worker']);
    await waitUntilFinishedOnHosts(rollout, target);
    await cluster.startPostgres();
    await expectAppliedOnce(rollout, h.orchestrator.apiUrl, created.id, target);
  }, 240_000);
});
