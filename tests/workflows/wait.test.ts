import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import { ErrorType, type PlanInput } from '@opsc/contracts';
import { progressQuery } from '@opsc/contracts/temporal';
import { WorkflowEnv, sshPlan, type TestJob } from './support/env.js';

// The `wait` tool's step: a durable timer of the job's workflow between two steps, on the
// time-skipping test server (an hour passes at once while the test awaits the result).
let wf: WorkflowEnv;
beforeAll(async () => {
  wf = await WorkflowEnv.start();
});
afterAll(async () => {
  await wf?.stop();
});

const HOUR = 3_600;

/** Step a, then a wait of `seconds`, then step b. */
const withWait = (seconds: number): PlanInput => {
  const [a, b] = sshPlan(['a', 'b']).steps;
  return {
    name: 'stop, wait, start',
    steps: [a!, { id: 'pause', name: `Wait ${seconds} seconds`, action: { method: 'timer', seconds } }, b!],
  };
};

const historyOf = async (job: TestJob) => (await job.handle.fetchHistory()).events ?? [];
const secondsOf = (t: { seconds?: unknown; nanos?: number | null } | null | undefined): number =>
  Number(t?.seconds ?? 0) + (t?.nanos ?? 0) / 1e9;

describe('a wait step', () => {
  it('is a workflow timer (no activity) and the next step starts only once it fired', async () => {
    const job = await wf.startJob({ plan: withWait(HOUR) });
    const result = await job.result();
    expect(result).toMatchObject({ status: 'completed', targets: { failed: 0 } });
    // The executor ran a and b only: nothing of the wait reached it.
    expect(job.records.calls).toEqual(['a@web-1', 'b@web-1']);
    expect(job.records.verdicts.map((v) => [v.stepId, v.target.name, v.status])).toEqual([
      ['a', 'web-1', 'succeeded'],
      ['pause', 'executor', 'succeeded'],
      ['b', 'web-1', 'succeeded'],
    ]);
    expect(job.records.verdicts[1]!.durationMs).toBeGreaterThanOrEqual(HOUR * 1000);

    const events = await historyOf(job);
    const started = events.filter((e) => e.timerStartedEventAttributes);
    expect(started.map((e) => secondsOf(e.timerStartedEventAttributes!.startToFireTimeout))).toEqual([HOUR]);
    const fired = events.findIndex((e) => e.timerFiredEventAttributes);
    expect(fired).toBeGreaterThan(0);
    const scheduled = events.filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runSshOperation',
    );
    expect(scheduled).toHaveLength(2);
    const [aAt, bAt] = scheduled.map((e) => events.indexOf(e));
    // a before the timer, b after it fired, and an hour of (skipped) time between the two.
    expect(aAt).toBeLessThan(events.indexOf(started[0]!));
    expect(bAt).toBeGreaterThan(fired);
    expect(secondsOf(scheduled[1]!.eventTime) - secondsOf(started[0]!.eventTime)).toBeGreaterThanOrEqual(HOUR);
    // The wait's own history replays with the same code: the timer branch is deterministic.
    await Worker.runReplayHistory(
      { workflowBundle: { codePath: inject('workflowBundlePath') } },
      await job.handle.fetchHistory(),
      job.input.jobId,
    );
  });

  it.each(['interrupt', 'finish'] as const)(
    'ends at a cancel (%s) during the wait: the wait is cancelled and the next step never starts',
    async (mode) => {
      const job = await wf.startJob({ plan: withWait(HOUR) });
      // The timer is started, and no result is awaited: the server's clock does not skip meanwhile.
      for (const deadline = Date.now() + 20_000; Date.now() < deadline;) {
        if ((await historyOf(job)).some((e) => e.timerStartedEventAttributes)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      // The monitor shows the wait as the step running now.
      const progress = await job.handle.query(progressQuery);
      expect(progress).toMatchObject({ status: 'running', currentStep: 2, stepName: `Wait ${HOUR} seconds` });
      expect(progress.steps[1]).toMatchObject({ id: 'pause', status: 'running' });
      await job.decide('cancel', { by: 'bob', role: 'operator' }, { mode });
      const result = await job.result();
      expect(result.status).toBe('cancelled');
      expect(job.records.calls).toEqual(['a@web-1']);
      const pause = job.records.verdicts.find((v) => v.stepId === 'pause');
      expect(pause).toMatchObject({ status: 'failed', error: { type: ErrorType.Cancelled } });
      expect(pause!.durationMs).toBeLessThan(HOUR * 1000);
      const events = await historyOf(job);
      expect(events.some((e) => e.timerFiredEventAttributes)).toBe(false);
    },
  );
});
