import { randomUUID } from 'node:crypto';
import {
  ActivityFailure,
  ApplicationFailure,
  WorkflowFailedError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { Plan } from '@opsc/contracts';
import { planHash } from '@opsc/contracts/plan-hash';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestJson, waitForJob, type JobView } from '../support/api.js';
import { control, type Created } from '../support/rollout.js';
import { createTestStack, type TestStack } from '../support/stack.js';

// Issue 15: approvals whose provenance Temporal cannot forge. Anyone who reaches Temporal can send
// an update; a decision counts only once the workflow has confirmed the record the API wrote with
// the authenticated actor. And a comment that could not be stored is refused at the edge, so the
// record of who decided can never fail to be written after the fact.
let stack: TestStack;
let apiUrl: string;
type User = { token: string; username: string; tenantId: string };
let requester: User;
let alice: User;
let bob: User;
let operator: User;

const echo = (id: string) => ({ id, name: id, action: { method: 'local-command', command: 'echo', args: [id] } });
const sleep = (id: string, seconds: number) => ({
  id,
  name: id,
  timeoutSeconds: 60,
  action: { method: 'local-command', command: 'sleep', args: [String(seconds)] },
});
/** Runs at once when approved. */
const gated = (name: string) => ({ name, steps: [echo('hello')], policies: { approvalRequired: true } });
/** Runs a while (six steps of two seconds): long enough to pause, cancel and forge against. */
const slow = (name: string) => ({ name, steps: Array.from({ length: 6 }, (_, i) => sleep(`wait-${i}`, 2)) });
/** Fails its first step and asks "continue, or roll back?". */
const asking = (name: string) => ({
  name,
  steps: [{ id: 'fail', name: 'fail', action: { method: 'local-command', command: 'false', args: [] } }, echo('after')],
  policies: { onFailThreshold: 'ask', decisionTimeoutSeconds: 600 },
});

const submit = async (plan: unknown): Promise<Created> => {
  const { status, body } = await requestJson<Created>(`${apiUrl}/api/jobs`, { token: requester.token, body: { plan } });
  if (status !== 201) throw new Error(`POST /api/jobs: ${status} ${JSON.stringify(body)}`);
  return body;
};
const waitFor = (id: string, done: (j: Omit<JobView, 'results'>) => boolean, timeoutMs = 60_000) =>
  waitForJob(apiUrl, requester.token, id, done, timeoutMs);
const ofStatus = (status: string) => (j: Omit<JobView, 'results'>) => j.status === status;
/** Submits a plan that is not about approval, approving it should the server's risk rules want that. */
const run = async (plan: unknown): Promise<Created> => {
  const created = await submit(plan);
  if (created.approvalRequired) {
    await waitFor(created.id, ofStatus('awaiting_approval'));
    expect((await control(apiUrl, alice.token, created.id, 'approve', { planHash: created.planHash })).status).toBe(
      200,
    );
  }
  return created;
};
const waiting = async (name: string): Promise<Created> => {
  const created = await submit(gated(name));
  await waitFor(created.id, ofStatus('awaiting_approval'));
  return created;
};

/** Sends an update straight to Temporal, as anyone who reaches it could; answers how it was refused. */
const forge = async (
  jobId: string,
  update: string,
  args: Record<string, unknown>,
): Promise<{ type: string | undefined; message: string }> => {
  try {
    await stack.client.workflow.getHandle(jobId).executeUpdate(update, { args: [args] });
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure)
      return { type: err.cause.type ?? undefined, message: err.cause.message };
    throw err;
  }
  throw new Error(`the forged ${update} was accepted`);
};

const decisionsOf = async (jobId: string) =>
  (await stack.pool.query(`SELECT * FROM job_decisions WHERE job_id = $1 ORDER BY created_at, id`, [jobId]))
    .rows as Record<string, unknown>[];
const auditOf = async (jobId: string, action: string) =>
  (
    await stack.pool.query(
      `SELECT actor, action, source_ip, details, at FROM audit_log WHERE job_id = $1 AND action = $2 ORDER BY id`,
      [jobId, action],
    )
  ).rows as {
    actor: string;
    action: string;
    source_ip: string | null;
    details: Record<string, unknown>;
    at: Date;
  }[];
const resultCount = async (jobId: string) =>
  (await stack.pool.query('SELECT count(*)::int AS n FROM step_results WHERE job_id = $1', [jobId])).rows[0]
    .n as number;

beforeAll(async () => {
  stack = await createTestStack('sec-approvals');
  apiUrl = (await stack.startOrchestrator()).apiUrl;
  await stack.startExecutor();
  // An admin requests (raw plans may be an admin's tool); two approvers and an operator decide.
  requester = await stack.createUser('admin', { username: 'rita-requester' });
  alice = await stack.createUser('approver', { username: 'alice-approver' });
  bob = await stack.createUser('approver', { username: 'bob-approver' });
  operator = await stack.createUser('operator', { username: 'oscar-operator' });
}, 240_000);

afterAll(async () => {
  await stack?.close();
});

describe('an update sent straight to Temporal', () => {
  it('approving as a made-up admin with the right plan hash is refused, audited, and the job still waits', async () => {
    const job = await waiting('forged approve');
    const madeUp = await forge(job.id, 'approve', {
      decisionId: randomUUID(),
      by: 'mallory',
      role: 'admin',
      planHash: job.planHash,
    });
    expect(madeUp).toEqual({
      type: 'Forbidden',
      message: expect.stringMatching(/no decision was recorded with this id/),
    });
    // The shape the API used to send, with no decision at all.
    const bare = await forge(job.id, 'approve', {
      by: 'mallory',
      role: 'admin',
      planHash: job.planHash,
      comment: 'looks fine',
    });
    expect(bare.type).toBe('Forbidden');

    const after = await waitFor(job.id, () => true);
    expect(after.status).toBe('awaiting_approval');
    expect(after.progress?.approval).toMatchObject({ status: 'pending' });
    expect(after.approval).toBeNull();
    expect(await resultCount(job.id)).toBe(0);
    expect(await decisionsOf(job.id)).toEqual([]);
    expect(await auditOf(job.id, 'job.approve')).toEqual([]);
    const forged = await auditOf(job.id, 'job.decision.forged');
    expect(forged.map((a) => [a.actor, a.details.update, a.details.claimed])).toEqual([
      ['unknown', 'approve', { by: 'mallory', role: 'admin', planHash: job.planHash }],
      ['unknown', 'approve', { by: 'mallory', role: 'admin', planHash: job.planHash, comment: 'looks fine' }],
    ]);
    expect(forged[0]!.details.reason).toMatch(/no decision was recorded with this id/);

    // The real approval still works, and the record says who gave it.
    expect((await control(apiUrl, alice.token, job.id, 'approve', { planHash: job.planHash })).status).toBe(200);
    const done = await waitFor(job.id, ofStatus('completed'));
    expect(done.approval).toMatchObject({ status: 'approved', by: 'alice-approver' });
  });

  it('a replayed decision is refused: one of another job, one for another action, one used already', async () => {
    const first = await waiting('approved for real');
    expect((await control(apiUrl, alice.token, first.id, 'approve', { planHash: first.planHash })).status).toBe(200);
    await waitFor(first.id, ofStatus('completed'));
    const [used] = await decisionsOf(first.id);
    expect(used).toMatchObject({ action: 'approve', actor: 'alice-approver', status: 'applied' });

    const job = await waiting('replayed into');
    // Alice's genuine approval of the first job, sent to this one with her name and role.
    const otherJob = await forge(job.id, 'approve', {
      decisionId: used!.id,
      by: 'alice-approver',
      role: 'approver',
      planHash: job.planHash,
    });
    expect(otherJob).toEqual({ type: 'Forbidden', message: expect.stringMatching(/recorded for another job/) });
    // The requester's own approval, refused under four-eyes, is spent: replaying it changes nothing.
    const own = await control(apiUrl, requester.token, job.id, 'approve', { planHash: job.planHash });
    expect(own.status).toBe(403);
    expect(own.body.error?.message).toMatch(/four-eyes rule: rita-requester requested this job/);
    const [refused] = await decisionsOf(job.id);
    expect(refused).toMatchObject({
      action: 'approve',
      actor: 'rita-requester',
      status: 'refused',
      refusal: expect.stringMatching(/four-eyes/),
    });
    const replay = await forge(job.id, 'approve', {
      decisionId: refused!.id,
      by: 'alice-approver',
      role: 'approver',
      planHash: job.planHash,
    });
    expect(replay).toEqual({ type: 'Forbidden', message: expect.stringMatching(/used already/) });
    const wrongAction = await forge(job.id, 'reject', { decisionId: refused!.id, by: 'rita-requester', role: 'admin' });
    expect(wrongAction).toEqual({
      type: 'Forbidden',
      message: expect.stringMatching(/recorded to approve, not to reject/),
    });

    const after = await waitFor(job.id, () => true);
    expect(after.status).toBe('awaiting_approval');
    expect(after.progress?.approval.status).toBe('pending');
    expect(await resultCount(job.id)).toBe(0);
    expect((await auditOf(job.id, 'job.decision.forged')).map((a) => a.details.reason)).toEqual([
      'the decision was recorded for another job',
      'the decision was used already (it is refused)',
      'the decision was recorded to approve, not to reject',
    ]);
    expect(
      (await auditOf(job.id, 'job.decision.refused')).map((a) => [a.actor, a.details.action, a.details.reason]),
    ).toEqual([['rita-requester', 'approve', expect.stringMatching(/four-eyes rule/)]]);
    expect((await decisionsOf(first.id)).map((d) => d.status)).toEqual(['applied']);

    expect((await control(apiUrl, bob.token, job.id, 'reject', { comment: 'clean-up' })).status).toBe(200);
    expect(await waitFor(job.id, ofStatus('rejected'))).toMatchObject({
      approval: { status: 'rejected', by: 'bob-approver', comment: 'clean-up' },
    });
  });

  it('a forged reject or cancel leaves a waiting job waiting', async () => {
    const job = await waiting('forged reject and cancel');
    expect(
      await forge(job.id, 'reject', { decisionId: randomUUID(), by: 'rita-requester', role: 'admin' }),
    ).toMatchObject({ type: 'Forbidden' });
    expect(
      await forge(job.id, 'cancel', { decisionId: randomUUID(), by: 'mallory', role: 'admin', mode: 'interrupt' }),
    ).toMatchObject({ type: 'Forbidden' });
    const after = await waitFor(job.id, () => true);
    expect(after.status).toBe('awaiting_approval');
    expect(after.progress?.approval.status).toBe('pending');
    expect(after.events).toEqual([]);
    expect((await auditOf(job.id, 'job.decision.forged')).map((a) => a.details.update)).toEqual(['reject', 'cancel']);
    expect((await control(apiUrl, alice.token, job.id, 'reject')).status).toBe(200);
    await waitFor(job.id, ofStatus('rejected'));
  });

  it('a forged "continue" leaves a job waiting for its decision; a replayed pause does not pause', async () => {
    const asked = await run(asking('forged decide'));
    await waitFor(asked.id, ofStatus('awaiting_decision'));
    expect(
      await forge(asked.id, 'decide', { decisionId: randomUUID(), by: 'mallory', role: 'admin', choice: 'continue' }),
    ).toMatchObject({ type: 'Forbidden' });
    const still = await waitFor(asked.id, () => true);
    expect(still.status).toBe('awaiting_decision');
    expect(still.progress?.decision?.status).toBe('pending');
    expect((await control(apiUrl, operator.token, asked.id, 'decide', { choice: 'rollback' })).status).toBe(200);
    const ended = await waitFor(asked.id, (j) => j.status === 'failed');
    expect(ended.progress?.decision).toMatchObject({ status: 'rollback', decidedBy: 'oscar-operator' });

    const running = await run(slow('replayed pause'));
    await waitFor(running.id, ofStatus('running'));
    expect((await control(apiUrl, operator.token, running.id, 'pause')).status).toBe(200);
    expect((await control(apiUrl, operator.token, running.id, 'resume')).status).toBe(200);
    const pause = (await decisionsOf(running.id)).find((d) => d.action === 'pause');
    expect(pause).toMatchObject({ status: 'applied' });
    expect(await forge(running.id, 'pause', { decisionId: pause!.id, by: 'oscar-operator', role: 'operator' })).toEqual(
      { type: 'Forbidden', message: expect.stringMatching(/used already/) },
    );
    const after = await waitFor(running.id, () => true);
    expect(after.status).toBe('running');
    expect(after.events.map((e) => e.action)).toEqual(['pause', 'resume']);
    expect((await control(apiUrl, operator.token, running.id, 'cancel', { mode: 'interrupt' })).status).toBe(200);
    await waitFor(running.id, ofStatus('cancelled'));
  });
});

describe('a job started straight in Temporal', () => {
  /** Starts `runJob` as anyone who reaches Temporal could, and answers how the run ended. */
  const startForged = async (
    workflowId: string,
    input: Record<string, unknown>,
  ): Promise<{ type: string | undefined; message: string }> => {
    const handle = await stack.client.workflow.start('runJob', {
      taskQueue: 'orchestrator',
      workflowId,
      args: [input],
    });
    try {
      await handle.result();
    } catch (err) {
      const cause =
        err instanceof WorkflowFailedError
          ? err.cause instanceof ActivityFailure
            ? err.cause.cause
            : err.cause
          : undefined;
      if (cause instanceof ApplicationFailure) return { type: cause.type ?? undefined, message: cause.message };
      throw err;
    }
    throw new Error(`the forged start of ${workflowId} ran to its end`);
  };
  const options = { heartbeatTimeoutSeconds: 30, historyEventLimit: 10_000 };
  const noApproval = { required: false, reasons: [], fourEyes: false, timeoutSeconds: 60 };

  it('runs nothing for a job the API never recorded, nor again for one that ran, nor from forged handed-over state', async () => {
    const plan = Plan.parse({ name: 'no approval needed', steps: [echo('forged')] });
    const madeUp = `job-${randomUUID()}`;
    const input = {
      jobId: madeUp,
      tenantId: requester.tenantId,
      plan,
      planHash: planHash(plan),
      risk: 'read',
      targetGroup: null,
      targets: [],
      stepTargets: {},
      requestedBy: 'mallory',
      approval: noApproval,
      options,
    };
    expect(await startForged(madeUp, input)).toEqual({
      type: 'Forbidden',
      message: 'refused to run: no job was recorded with this id',
    });
    expect(await resultCount(madeUp)).toBe(0);

    // A job that was approved and ran, started again under its own id with its own recorded input.
    const ran = await waiting('ran once');
    expect((await control(apiUrl, alice.token, ran.id, 'approve', { planHash: ran.planHash })).status).toBe(200);
    const done = await waitFor(ran.id, ofStatus('completed'));
    const row = (
      await stack.pool.query('SELECT plan, plan_hash, risk, requested_by, resolved_targets FROM jobs WHERE id = $1', [
        ran.id,
      ])
    ).rows[0];
    const again = {
      jobId: ran.id,
      tenantId: requester.tenantId,
      plan: row.plan,
      planHash: row.plan_hash,
      risk: row.risk,
      targetGroup: null,
      ...row.resolved_targets,
      requestedBy: row.requested_by,
      approval: noApproval,
      options,
    };
    expect(await startForged(ran.id, again)).toEqual({
      type: 'Forbidden',
      message: 'refused to run: the job was started already (it is completed)',
    });
    // The forged run answers no progress query: the API shows the job's record, untouched.
    const still = await waitFor(ran.id, () => true);
    expect(still).toMatchObject({ status: 'completed', approval: { by: 'alice-approver' }, outcome: done.outcome });
    expect(still.events).toEqual(done.events);
    expect(await resultCount(ran.id)).toBe(1);

    // State as a continued run would carry it, past an approval nobody gave.
    const carried = `job-${randomUUID()}`;
    expect(await startForged(carried, { ...input, jobId: carried, carried: { phase: 'running' } })).toEqual({
      type: 'Forbidden',
      message: 'refused to run: handed-over state, but this run did not continue an earlier one',
    });

    const audited = (
      await stack.pool.query(`SELECT job_id, details FROM audit_log WHERE action = 'job.start.forged' ORDER BY id`)
    ).rows;
    expect(audited.map((a) => [a.job_id, a.details.reason])).toEqual([
      [madeUp, 'no job was recorded with this id'],
      [ran.id, 'the job was started already (it is completed)'],
    ]);
  });
});

describe('a decision through the API', () => {
  it('leaves its record and audit entry, written together before the workflow acted, and the job record says who approved', async () => {
    const job = await waiting('approved with a record');
    const ok = await control(apiUrl, alice.token, job.id, 'approve', {
      planHash: job.planHash,
      comment: 'CHG-7, checked',
    });
    expect(ok.status).toBe(200);
    const done = await waitFor(job.id, ofStatus('completed'));
    expect(done.approval).toMatchObject({
      status: 'approved',
      by: 'alice-approver',
      comment: 'CHG-7, checked',
      planHash: job.planHash,
    });
    const [decision] = await decisionsOf(job.id);
    expect(decision).toMatchObject({
      action: 'approve',
      actor: 'alice-approver',
      role: 'approver',
      tenant_id: alice.tenantId,
      plan_hash: job.planHash,
      comment: 'CHG-7, checked',
      source_ip: expect.stringMatching(/127\.0\.0\.1/),
      status: 'applied',
      confirmed_by: expect.stringMatching(new RegExp(`^${job.id}/`)),
    });
    const [recorded] = await auditOf(job.id, 'job.decision.recorded');
    expect(recorded).toMatchObject({
      actor: 'alice-approver',
      details: { decisionId: decision!.id, action: 'approve', role: 'approver', comment: 'CHG-7, checked' },
    });
    // One transaction: the same now() for the row and its audit entry.
    expect(recorded!.at.getTime()).toBe((decision!.created_at as Date).getTime());
    expect((await auditOf(job.id, 'job.approve')).map((a) => [a.actor, a.details])).toEqual([
      ['alice-approver', { comment: 'CHG-7, checked' }],
    ]);
    expect(done.events).toEqual([
      expect.objectContaining({ action: 'approve', actor: 'alice-approver', decisionId: decision!.id }),
    ]);
  });

  it("stays as it was recorded: the orchestrator's database role can neither edit nor delete a decision", async () => {
    const job = await waiting('recorded for good');
    expect((await control(apiUrl, alice.token, job.id, 'reject', { comment: 'as recorded' })).status).toBe(200);
    await waitFor(job.id, ofStatus('rejected'));
    const [decision] = await decisionsOf(job.id);
    const orchestrator = new pg.Client({ connectionString: stack.roleUrls.orchestrator });
    await orchestrator.connect();
    try {
      const attempt = (sql: string) =>
        orchestrator.query(sql, [decision!.id]).then(
          () => 'done',
          (err: Error) => err.message,
        );
      expect(await attempt(`UPDATE job_decisions SET actor = 'mallory' WHERE id = $1`)).toMatch(/permission denied/);
      expect(await attempt(`DELETE FROM job_decisions WHERE id = $1`)).toMatch(/permission denied/);
      expect(await attempt(`UPDATE job_decisions SET status = 'recorded' WHERE id = $1`)).toMatch(
        /a decision cannot go from applied to recorded/,
      );
    } finally {
      await orchestrator.end();
    }
    expect(await decisionsOf(job.id)).toEqual([decision]);
  });

  it('two approvals racing: exactly one wins, and the other is on record as refused', async () => {
    const job = await waiting('raced');
    const answers = await Promise.all(
      [alice, bob].map((u) => control(apiUrl, u.token, job.id, 'approve', { planHash: job.planHash })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    expect(answers.find((a) => a.status === 409)?.body.error?.message).toMatch(/not waiting for approval/);
    const winner = [alice, bob][answers.findIndex((a) => a.status === 200)]!.username;
    const done = await waitFor(job.id, ofStatus('completed'));
    expect(done.approval).toMatchObject({ status: 'approved', by: winner });
    expect(done.events.map((e) => [e.action, e.actor])).toEqual([['approve', winner]]);
    const decisions = await decisionsOf(job.id);
    expect(decisions.map((d) => [d.actor, d.status]).sort()).toEqual(
      [
        [winner, 'applied'],
        [winner === 'alice-approver' ? 'bob-approver' : 'alice-approver', 'refused'],
      ].sort(),
    );
    expect(await auditOf(job.id, 'job.approve')).toHaveLength(1);
    expect(await auditOf(job.id, 'job.decision.refused')).toHaveLength(1);
  });
});

describe('a comment that could not be stored', () => {
  const BAD = ['NUL \u0000 inside', 'lone high \ud800 surrogate', 'lone low \udc00 surrogate'];
  const expectRefused = async (answer: Awaited<ReturnType<typeof control>>) => {
    const body = answer.body as { error?: { type: string; issues?: { path: string }[] } };
    expect(answer.status).toBe(400);
    expect(body.error?.type).toBe('ValidationFailed');
    expect(body.error?.issues?.map((i) => i.path)).toEqual([expect.stringMatching(/(^|\.)comment$/)]);
  };

  it('is refused with 400 naming comment on approve and reject; nothing is recorded and the job still waits', async () => {
    const job = await waiting('bad comments while waiting');
    for (const comment of BAD) {
      await expectRefused(await control(apiUrl, alice.token, job.id, 'approve', { planHash: job.planHash, comment }));
      await expectRefused(await control(apiUrl, bob.token, job.id, 'reject', { comment }));
      await expectRefused(await control(apiUrl, operator.token, job.id, 'cancel', { comment }));
    }
    const after = await waitFor(job.id, () => true);
    expect(after.status).toBe('awaiting_approval');
    expect(after.approval).toBeNull();
    expect(after.events).toEqual([]);
    expect(await decisionsOf(job.id)).toEqual([]);
    expect(
      (await stack.pool.query(`SELECT action FROM audit_log WHERE job_id = $1 ORDER BY id`, [job.id])).rows.map(
        (r) => r.action,
      ),
    ).toEqual(['job.submit']);
    expect((await control(apiUrl, alice.token, job.id, 'reject', { comment: 'plain text is fine' })).status).toBe(200);
    await waitFor(job.id, ofStatus('rejected'));
  });

  it('is refused on pause, cancel and decide; the job still runs, or still waits for its decision', async () => {
    const running = await run(slow('bad comments while running'));
    await waitFor(running.id, ofStatus('running'));
    for (const comment of BAD) {
      await expectRefused(await control(apiUrl, operator.token, running.id, 'pause', { comment }));
      await expectRefused(await control(apiUrl, operator.token, running.id, 'cancel', { comment, mode: 'interrupt' }));
    }
    const still = await waitFor(running.id, () => true);
    expect(still.status).toBe('running');
    expect(still.events).toEqual([]);
    expect(await decisionsOf(running.id)).toEqual([]);
    expect((await control(apiUrl, operator.token, running.id, 'cancel', { mode: 'interrupt' })).status).toBe(200);
    await waitFor(running.id, ofStatus('cancelled'));

    const asked = await run(asking('bad comments at the question'));
    await waitFor(asked.id, ofStatus('awaiting_decision'));
    for (const comment of BAD)
      await expectRefused(await control(apiUrl, alice.token, asked.id, 'decide', { choice: 'continue', comment }));
    const waitingStill = await waitFor(asked.id, () => true);
    expect(waitingStill.status).toBe('awaiting_decision');
    expect(waitingStill.progress?.decision?.status).toBe('pending');
    expect((await decisionsOf(asked.id)).filter((d) => d.action === 'decide')).toEqual([]);
    expect(
      (await control(apiUrl, alice.token, asked.id, 'decide', { choice: 'rollback', comment: 'roll back' })).status,
    ).toBe(200);
    await waitFor(asked.id, ofStatus('failed'));
  });
});
