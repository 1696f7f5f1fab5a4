import { WorkflowNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorType } from '@opsc/contracts';
import { commandOutput, deferred, heldUntil, waitFor } from './support/fakes.js';
import { TestJob, WorkflowEnv, sshPlan, type JobSpec } from './support/env.js';

// The waits for a person (approval: a day; a decision past failures: a week) and the updates that end them.
// One time-skipping test server and one pair of workers for the file: the server's clock is shared,
// so the tests of a file run one after another.
let wf: WorkflowEnv;
beforeAll(async () => {
  wf = await WorkflowEnv.start();
});
afterAll(async () => {
  await wf?.stop();
});

const DAY = 86_400;

describe('approval gate', () => {
  it('rejects a job nobody approves within a day, without running a step', async () => {
    const started = Date.now();
    const job = await wf.startJob({ plan: sshPlan(['a']), approval: { required: true, timeoutSeconds: DAY } });
    const result = await job.result();
    expect(result.status).toBe('rejected');
    expect(job.records.calls).toEqual([]);
    expect(job.eventActions()).toEqual(['approval-timeout']);
    expect(job.records.statuses.map((s) => s.status)).toEqual(['awaiting_approval', 'rejected']);
    // A day of waiting passes in well under a second of the test's time.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('runs a job approved 23 hours into its day', async () => {
    const job = await wf.startJob({
      plan: sshPlan(['a', 'b']),
      targets: ['web-1', 'web-2'],
      approval: { required: true, timeoutSeconds: DAY },
    });
    await job.reached('awaiting_approval');
    await wf.env.sleep('23h');
    const answer = await job.decide('approve', { by: 'bob', role: 'approver' });
    expect(answer.message).toBe('approved');
    const result = await job.result();
    expect(result).toMatchObject({ status: 'completed', targets: { total: 2, completed: 2, failed: 0 } });
    expect(job.records.calls.sort()).toEqual(['a@web-1', 'a@web-2', 'b@web-1', 'b@web-2']);
    expect(job.eventActions()).toEqual(['approve']);
    // Its notifications, each in a workflow of its own that outlives the job's.
    await waitFor(() => job.records.notifications.length >= 2, 'the notifications');
    expect(job.records.notifications.sort()).toEqual(['approval_needed-1', 'finished-1']);
  });

  it('four-eyes: the requester cannot approve their own job; another approver can', async () => {
    const job = await wf.startJob({
      plan: sshPlan(['a']),
      approval: { required: true, fourEyes: true, timeoutSeconds: DAY },
    });
    const own = await TestJob.refusal(job.decide('approve', { by: job.input.requestedBy, role: 'admin' }));
    expect(own.type).toBe(ErrorType.Forbidden);
    expect(own.message).toMatch(/four-eyes/);
    // The refused decision is on record with its reason, and nothing ran.
    expect(job.records.refused).toHaveLength(1);
    expect(job.records.refused[0]!.reason).toMatch(/four-eyes/);
    expect(job.records.calls).toEqual([]);
    // An operator is not an approver either.
    const operator = await TestJob.refusal(job.decide('approve', { by: 'carol', role: 'operator' }));
    expect(operator.type).toBe(ErrorType.Forbidden);
    await job.decide('approve', { by: 'bob', role: 'approver' });
    expect((await job.result()).status).toBe('completed');
    expect(job.records.events.map((e) => [e.action, e.actor])).toEqual([['approve', 'bob']]);
  });

  it('without four-eyes the requester, as an approver, may approve their own job', async () => {
    const job = await wf.startJob({
      plan: sshPlan(['a']),
      approval: { required: true, fourEyes: false, timeoutSeconds: DAY },
    });
    await job.decide('approve', { by: job.input.requestedBy, role: 'approver' });
    expect((await job.result()).status).toBe('completed');
  });
});

const WEEK = 604_800;
/** Step `a` fails on web-2; the plan asks a person what to do, and waits up to a week. */
const asking = (): JobSpec => ({
  plan: sshPlan(['a', 'b'], { onFailThreshold: 'ask', decisionTimeoutSeconds: WEEK }),
  targets: ['web-1', 'web-2'],
  script: async ({ stepId, target }) => commandOutput(stepId === 'a' && target === 'web-2' ? 1 : 0),
});
const undos = (calls: string[]) => calls.filter((c) => c.includes('.rollback@')).sort();

describe('failure threshold decision', () => {
  it('rolls every target back when nobody decides within a week', async () => {
    const started = Date.now();
    const job = await wf.startJob(asking());
    const result = await job.result();
    expect(result.status).toBe('failed');
    expect(job.eventActions()).toEqual(['decision-timeout']);
    expect(job.records.statuses.map((s) => s.status)).toEqual(
      expect.arrayContaining(['awaiting_decision', 'rolling_back']),
    );
    // Both targets ran `a` (one failed after running it): both are undone; `b` never started.
    expect(undos(job.records.calls)).toEqual(['a.rollback@web-1', 'a.rollback@web-2']);
    expect(job.records.calls.filter((c) => c.startsWith('b@'))).toEqual([]);
    expect(Date.now() - started).toBeLessThan(10_000);
    await waitFor(() => job.records.notifications.length >= 4, 'the notifications');
    expect(job.records.notifications.sort()).toEqual([
      'awaiting_decision-1',
      'finished-1',
      'job_failed-1',
      'rolled_back-1',
    ]);
  });

  it('goes on past the failure when an approver says so six days later', async () => {
    const job = await wf.startJob(asking());
    await job.reached('awaiting_decision');
    await wf.env.sleep('6d');
    const answer = await job.decide('decide', { by: 'bob', role: 'approver' }, { choice: 'continue' });
    expect(answer.message).toBe('continuing');
    const result = await job.result();
    expect(result.status).toBe('failed');
    expect(job.records.calls).toContain('b@web-1');
    expect(undos(job.records.calls)).toEqual([]);
    expect(job.eventActions()).toEqual(['decide']);
  });

  it('four-eyes: the requester may roll back but not continue past the failures', async () => {
    const job = await wf.startJob({ ...asking(), approval: { required: false, fourEyes: true } });
    await job.reached('awaiting_decision');
    const own = await TestJob.refusal(
      job.decide('decide', { by: job.input.requestedBy, role: 'approver' }, { choice: 'continue' }),
    );
    expect(own.type).toBe(ErrorType.Forbidden);
    expect(own.message).toMatch(/four-eyes/);
    await job.decide('decide', { by: job.input.requestedBy, role: 'operator' }, { choice: 'rollback' });
    const result = await job.result();
    expect(result.status).toBe('failed');
    expect(undos(job.records.calls)).toEqual(['a.rollback@web-1', 'a.rollback@web-2']);
    expect(job.records.events.map((e) => [e.action, e.details])).toEqual([['decide', { choice: 'rollback' }]]);
  });
});

describe('an update racing the end of the job', () => {
  it('a cancel confirmed only after the last step finished is refused, on record, and the job still completes', async () => {
    const started = deferred();
    const release = deferred();
    const job = await wf.startJob({
      plan: sshPlan(['a']),
      script: async () => {
        started.resolve();
        return heldUntil(release.promise);
      },
    });
    await started.promise;
    // The cancel passes the validator while the step runs, then waits for its record's confirmation...
    const confirmAsked = deferred();
    const confirmGate = deferred();
    job.records.beforeConfirm = () => {
      confirmAsked.resolve();
      return confirmGate.promise;
    };
    const cancel = TestJob.refusal(job.decide('cancel', { by: 'bob', role: 'operator' }, { mode: 'finish' }));
    await confirmAsked.promise;
    // ...while the last step finishes and the workflow reaches its end (the step's verdict is written)...
    release.resolve();
    await waitFor(() => job.records.verdicts.length === 1, 'the last verdict');
    expect(job.records.statuses.map((s) => s.status)).not.toContain('completed');
    // ...and then the confirmation comes back: the job is past cancelling.
    confirmGate.resolve();
    const refused = await cancel;
    expect(refused.type).toBe(ErrorType.Conflict);
    expect(refused.message).toMatch(/can no longer be cancelled/);
    const result = await job.result();
    expect(result.status).toBe('completed');
    // The workflow waited for the handler: the refusal is on record, no cancel event, the final status last.
    expect(job.records.refused).toEqual([
      expect.objectContaining({ reason: expect.stringMatching(/can no longer be cancelled/) }),
    ]);
    expect(job.eventActions()).toEqual([]);
    expect(job.records.statuses.at(-1)?.status).toBe('completed');
  });

  it('a pause that arrives once the job is over is refused at once, before any record is confirmed', async () => {
    const job = await wf.startJob({ plan: sshPlan(['a']) });
    expect((await job.result()).status).toBe('completed');
    const err = await job.decide('pause', { by: 'bob', role: 'operator' }).catch((e: unknown) => e);
    // A closed workflow takes no update; the API maps this to "the job is over".
    expect(err).toBeInstanceOf(WorkflowNotFoundError);
    expect(job.records.refused).toEqual([]);
  });
});
