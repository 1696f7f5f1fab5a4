import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorType, MAX_RERUNS_PER_STEP } from '@opsc/contracts';
import { progressQuery } from '@opsc/contracts/temporal';
import { commandOutput, waitFor } from './support/fakes.js';
import { TestJob, WorkflowEnv, sshPlan, type JobSpec } from './support/env.js';

// "Retry failed targets now": the third answer to a job's mid-run question (docs/retry.md).
let wf: WorkflowEnv;
beforeAll(async () => {
  wf = await WorkflowEnv.start();
});
afterAll(async () => {
  await wf?.stop();
});

const WEEK = 604_800;
/** Step `a` fails on the targets `failing` says, per re-run (0: the first run); `b` never fails. */
const asking = (failing: (target: string, rerun: number) => boolean): JobSpec => ({
  plan: sshPlan(['a', 'b'], { onFailThreshold: 'ask', decisionTimeoutSeconds: WEEK }),
  targets: ['web-1', 'web-2', 'web-3'],
  script: async ({ stepId, target }, input) =>
    commandOutput(stepId === 'a' && failing(target, input.rerun ?? 0) ? 1 : 0),
});
const operator = { by: 'olga', role: 'operator' } as const;

/** Waits for the job's n-th question and returns what it offers. */
const question = async (job: TestJob, n: number) => {
  await waitFor(
    () => job.records.statuses.filter((s) => s.status === 'awaiting_decision').length >= n,
    `question ${n}`,
  );
  const progress = await job.handle.query(progressQuery);
  expect(progress.decision?.status).toBe('pending');
  return { decision: progress.decision!, progress };
};

describe('retry failed targets now', () => {
  it('runs the step again on exactly the targets that failed it, asks again while one fails, then goes on', async () => {
    // web-2 succeeds at its first retry; web-3 only at its second.
    const job = await wf.startJob(asking((t, rerun) => (t === 'web-2' && rerun < 1) || (t === 'web-3' && rerun < 2)));
    const first = await question(job, 1);
    expect(first.decision.retry).toEqual({ stepId: 'a', rerun: 1, targets: ['web-2', 'web-3'] });
    expect(first.progress.steps[0]!.targets.failed).toBe(2);
    const answer = await job.decide('decide', operator, { choice: 'retry', retry: { stepId: 'a', rerun: 1 } });
    expect(answer.message).toBe('retrying 2 failed target(s)');

    const second = await question(job, 2);
    expect(second.decision.retry).toEqual({ stepId: 'a', rerun: 2, targets: ['web-3'] });
    expect(second.decision.reason).toMatch(/after retry 1/);
    // The failure count follows the re-run: web-2 succeeded, web-3 failed again.
    expect(second.progress.steps[0]!.targets).toMatchObject({ failed: 1, completed: 2 });
    // A decision recorded against the first question no longer fits the second.
    const stale = await TestJob.refusal(
      job.decide('decide', operator, { choice: 'retry', retry: { stepId: 'a', rerun: 1 } }),
    );
    expect(stale.type).toBe(ErrorType.Conflict);
    await job.decide('decide', operator, { choice: 'retry', retry: { stepId: 'a', rerun: 2 } });

    const result = await job.result();
    expect(result.status).toBe('completed');
    expect(job.records.calls.sort()).toEqual(
      ['a@web-1', 'a@web-2', 'a@web-3', 'a#1@web-2', 'a#1@web-3', 'a#2@web-3', 'b@web-1', 'b@web-2', 'b@web-3'].sort(),
    );
    expect(job.records.events.map((e) => [e.action, e.details?.choice, e.details?.rerun])).toEqual([
      ['decide', 'retry', 1],
      ['decide', 'retry', 2],
    ]);
    // Each question is announced: the second is notified too, as the job's second wait for a decision.
    await waitFor(() => job.records.notifications.length >= 3, 'the notifications');
    expect(job.records.notifications.filter((n) => n.startsWith('awaiting_decision')).sort()).toEqual([
      'awaiting_decision-1',
      'awaiting_decision-2',
    ]);
    // The verdicts say which run they are of.
    expect(
      job.records.verdicts.filter((v) => v.stepId === 'a' && v.target.name === 'web-3').map((v) => v.rerun),
    ).toEqual([undefined, 1, 2]);
  });

  it(`offers at most ${MAX_RERUNS_PER_STEP} retries of a step, refuses a viewer, and a rollback then undoes each changed target once`, async () => {
    const job = await wf.startJob(asking((t) => t === 'web-2'));
    const viewer = await TestJob.refusal(
      (await question(job, 1),
      job.decide('decide', { by: 'vic', role: 'viewer' }, { choice: 'retry', retry: { stepId: 'a', rerun: 1 } })),
    );
    expect(viewer.type).toBe(ErrorType.Forbidden);
    for (let n = 1; n <= MAX_RERUNS_PER_STEP; n++) {
      const { decision } = await question(job, n);
      expect(decision.retry).toEqual({ stepId: 'a', rerun: n, targets: ['web-2'] });
      await job.decide('decide', operator, { choice: 'retry', retry: { stepId: 'a', rerun: n } });
    }
    const last = await question(job, MAX_RERUNS_PER_STEP + 1);
    expect(last.decision.retry?.unavailable).toMatch(/3 times already/);
    const refused = await TestJob.refusal(
      job.decide('decide', operator, { choice: 'retry', retry: { stepId: 'a', rerun: MAX_RERUNS_PER_STEP + 1 } }),
    );
    expect(refused.type).toBe(ErrorType.Conflict);
    await job.decide('decide', operator, { choice: 'rollback' });
    const result = await job.result();
    expect(result.status).toBe('failed');
    expect(job.records.calls.filter((c) => c.startsWith('a') && c.endsWith('@web-2')).sort()).toEqual([
      'a#1@web-2',
      'a#2@web-2',
      'a#3@web-2',
      'a.rollback@web-2',
      'a@web-2',
    ]);
    // Undone once per target that ran the step (a failed `run` may have changed its host).
    expect(job.records.calls.filter((c) => c.includes('.rollback@')).sort()).toEqual([
      'a.rollback@web-1',
      'a.rollback@web-2',
      'a.rollback@web-3',
    ]);
    expect(job.records.calls.filter((c) => c.startsWith('b'))).toEqual([]);
  });
});
