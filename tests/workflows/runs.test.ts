import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorType } from '@opsc/contracts';
import { progressQuery } from '@opsc/contracts/temporal';
import { commandOutput, deferred, heldUntil } from './support/fakes.js';
import { WorkflowEnv, sshPlan } from './support/env.js';

// A job's run once it started: cancelling it, rolling it back, handing it over to a new run.
// One time-skipping test server and one pair of workers for the file: the server's clock is shared,
// so the tests of a file run one after another.
let wf: WorkflowEnv;
beforeAll(async () => {
  wf = await WorkflowEnv.start();
});
afterAll(async () => {
  await wf?.stop();
});

/** Step `a` is held on the executor until the test releases it (or the workflow cancels it). */
const holding = () => {
  const started = deferred();
  const release = deferred();
  let cancelSeen = false;
  const script = async ({ stepId }: { stepId: string }) => {
    if (stepId !== 'a') return commandOutput(0);
    started.resolve();
    try {
      return await heldUntil(release.promise);
    } catch (err) {
      cancelSeen = true;
      throw err;
    }
  };
  return { started, release, script, cancelSeen: () => cancelSeen };
};

describe('cancel', () => {
  it('finish: the step in flight runs to its end, later steps are skipped, nothing is undone under rollback none', async () => {
    const hold = holding();
    const job = await wf.startJob({ plan: sshPlan(['a', 'b'], { rollback: 'none' }), script: hold.script });
    await hold.started.promise;
    const answer = await job.decide('cancel', { by: 'bob', role: 'operator' }, { mode: 'finish' });
    expect(answer.message).toBe('cancelling');
    hold.release.resolve();
    const result = await job.result();
    expect(result.status).toBe('cancelled');
    expect(hold.cancelSeen()).toBe(false);
    expect(job.records.verdicts.map((v) => [v.stepId, v.status])).toEqual([['a', 'succeeded']]);
    expect(job.records.calls).toEqual(['a@web-1']);
    expect(job.records.events.map((e) => [e.action, e.details])).toEqual([['cancel', { mode: 'finish' }]]);
  });

  it('interrupt: the step in flight is cancelled on the executor, and under rollback all its possible change is undone', async () => {
    const hold = holding();
    // A short heartbeat timeout: the cancel reaches the activity with its next heartbeat.
    const job = await wf.startJob({
      plan: sshPlan(['a', 'b'], { rollback: 'all' }),
      script: hold.script,
      options: { heartbeatTimeoutSeconds: 2 },
    });
    await hold.started.promise;
    await job.decide('cancel', { by: 'bob', role: 'operator' }, { mode: 'interrupt' });
    const result = await job.result();
    expect(result.status).toBe('cancelled');
    expect(hold.cancelSeen()).toBe(true);
    const a = job.records.verdicts.find((v) => v.stepId === 'a');
    expect(a).toMatchObject({ status: 'failed', error: { type: ErrorType.Cancelled } });
    // No result came back, so the step may have changed the host: its undo runs.
    expect(job.records.calls).toEqual(['a@web-1', 'a.rollback@web-1']);
  });

  it('a viewer cannot cancel', async () => {
    const hold = holding();
    const job = await wf.startJob({ plan: sshPlan(['a']), script: hold.script });
    await hold.started.promise;
    await expect(job.decide('cancel', { by: 'dave', role: 'viewer' }, { mode: 'interrupt' })).rejects.toThrow();
    expect(job.records.refused.map((r) => r.reason)).toEqual([expect.stringMatching(/operator role/)]);
    hold.release.resolve();
    expect((await job.result()).status).toBe('completed');
  });
});

const targets = ['web-1', 'web-2', 'web-3'];
/** Step `b` fails on web-2, after `a` changed every target. */
const script = async ({ stepId, target }: { stepId: string; target: string }) =>
  commandOutput(stepId === 'b' && target === 'web-2' ? 1 : 0);
const undosOf = (calls: string[], target: string) => calls.filter((c) => c.endsWith(`.rollback@${target}`));

describe('rollback policy', () => {
  it('target: only the failed target is undone, newest change first; the others go on', async () => {
    const job = await wf.startJob({
      plan: sshPlan(['a', 'b', 'c'], { rollback: 'target', continueOnFailure: true }),
      targets,
      script,
    });
    const result = await job.result();
    expect(result).toMatchObject({
      status: 'failed',
      targets: { total: 3, completed: 2, rolledBack: 1 },
      compensationFailures: 0,
    });
    expect(undosOf(job.records.calls, 'web-2')).toEqual(['b.rollback@web-2', 'a.rollback@web-2']);
    expect(undosOf(job.records.calls, 'web-1')).toEqual([]);
    expect(undosOf(job.records.calls, 'web-3')).toEqual([]);
    expect(job.records.calls).toEqual(expect.arrayContaining(['c@web-1', 'c@web-3']));
    expect(job.records.calls).not.toContain('c@web-2');
  });

  it('all: one failure stops the job and every target is undone, newest change first', async () => {
    const job = await wf.startJob({
      plan: sshPlan(['a', 'b', 'c'], { rollback: 'all', continueOnFailure: true }),
      targets,
      script,
    });
    const result = await job.result();
    expect(result).toMatchObject({ status: 'failed', targets: { total: 3, rolledBack: 3 }, compensationFailures: 0 });
    for (const t of targets) expect(undosOf(job.records.calls, t)).toEqual([`b.rollback@${t}`, `a.rollback@${t}`]);
    expect(job.records.calls.filter((c) => c.startsWith('c@'))).toEqual([]);
  });
});

describe('continue-as-new', () => {
  it('hands the job over to new runs when the history passes its limit, running every step on every target exactly once', async () => {
    const targets = ['web-1', 'web-2', 'web-3', 'web-4'];
    // 40 events: a handful of targets per run, so the job spans several runs.
    const job = await wf.startJob({
      plan: sshPlan(['a', 'b', 'c'], { maxParallel: 2 }),
      targets,
      options: { historyEventLimit: 40 },
    });
    const result = await job.result();
    expect(result).toMatchObject({ status: 'completed', targets: { total: 4, completed: 4, failed: 0 } });
    const expected = ['a', 'b', 'c'].flatMap((s) => targets.map((t) => `${s}@${t}`)).sort();
    expect([...job.records.calls].sort()).toEqual(expected);
    expect(job.records.verdicts.map((v) => `${v.stepId}@${v.target.name}`).sort()).toEqual(expected);
    // Only the first run checks the start against the job's record; the others were handed the state.
    expect(job.records.startChecks).toBe(1);
    // The state went over: `running` is recorded once, not once per run.
    expect(job.records.statuses.filter((s) => s.status === 'running')).toHaveLength(1);
    const progress = await job.handle.query(progressQuery);
    expect(progress.runs).toBeGreaterThan(1);
    const first = await wf.env.client.workflow.getHandle(job.input.jobId, job.handle.firstExecutionRunId).describe();
    expect(first.status.name).toBe('CONTINUED_AS_NEW');
  });

  it('refuses handed-over state in a run that did not continue an earlier one', async () => {
    const job = await wf.startJob({ plan: sshPlan(['a']), carried: { phase: 'running' } });
    const err = await job.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toMatchObject({
      type: ErrorType.Forbidden,
      message: expect.stringMatching(/handed-over state/),
    });
    expect(job.records.calls).toEqual([]);
  });
});
