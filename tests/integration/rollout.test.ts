import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allResults, requestJson, waitForJob, type StepResultView } from '../support/api.js';
import { approveAndWait, control, submitDraft, type Created } from '../support/rollout.js';
import { readEvents } from '../support/sse.js';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.js';
import { uploadArtifact } from '../support/artifacts.js';

// The rollout's rules on 6 real sshd hosts: approvals (roles, four-eyes, plan hash, timeout),
// targets failing and rolled back, the mid-run question, cancel with rollback, pause and resume,
// history and search, continue-as-new; and no secret in any workflow history.
const SIZE = 6;
const APP = '/opt/app/app.conf';
const OLD = 'version=1\n';
const NEW = 'version=2\n';
/** Hosts without /opt/app/ok: their check fails after the copy. */
const FAILING = new Set([1, 4]);

let h: SshHarness;
let apiUrl: string;
let requester: { token: string; username: string };
let approverA: { token: string; username: string };
let approverB: { token: string; username: string };
let operator: { token: string; username: string };
let viewer: { token: string };
/** The job of 'targets that fail': copy, check, check-again, with two targets' copies undone. */
let rolledBackJob = '';

const group = { group: 'Rollout' };
const copyStep = {
  id: 'copy',
  tool: 'file-copy',
  params: { source: 'app/app.conf', destination: APP },
  targets: group,
};
const checkStep = {
  id: 'check',
  tool: 'run-command',
  params: { program: 'ls', args: ['/opt/app/ok'] },
  targets: group,
};
const draft = (name: string, policies: Record<string, unknown>, steps: unknown[] = [copyStep, checkStep]) => ({
  name,
  steps,
  policies,
});

const contents = async () =>
  Promise.all(h.fleet.hosts.map(async (_, i) => (await h.fleet.exec(i, `cat ${APP}`)).stdout));
/** Puts the original file back by hand (as root: the copy made the file root's). */
const resetHosts = async () => {
  for (const i of h.fleet.hosts.keys()) {
    const done = await h.fleet.exec(i, `sudo -n sh -c "printf 'version=1\\n' > ${APP}"`);
    if (done.code !== 0) throw new Error(`reset ${h.fleet.hosts[i]!.name}: ${done.stderr}`);
  }
  expect(await contents()).toEqual(h.fleet.hosts.map(() => OLD));
};
const submit = (token: string, body: unknown) => submitDraft(apiUrl, token, body);

beforeAll(async () => {
  h = await startSshHarness('rollout', {
    size: SIZE,
    host: (i) => ({ files: { [APP]: OLD, ...(!FAILING.has(i) && { '/opt/app/ok': 'ok\n' }) } }),
    groups: { Rollout: Array.from({ length: SIZE }, (_, i) => i) },
  });
  apiUrl = h.orchestrator.apiUrl;
  await uploadArtifact(h.orchestrator.apiUrl, h.admin.token, 'app/app.conf', NEW);
  await h.stack.startExecutor();
  requester = await h.stack.createUser('approver', { tenant: 'acme', username: 'rita-requester' });
  approverA = await h.stack.createUser('approver', { tenant: 'acme', username: 'alice-approver' });
  approverB = await h.stack.createUser('admin', { tenant: 'acme', username: 'bob-admin' });
  operator = await h.stack.createUser('operator', { tenant: 'acme', username: 'oscar-operator' });
  viewer = await h.stack.createUser('viewer', { tenant: 'acme', username: 'vera-viewer' });
}, 240_000);

afterAll(async () => {
  await h?.close();
});

describe('the approval gate', () => {
  it('waits for an approver, refusing the wrong role, the requester and a stale plan hash, and records who approved', async () => {
    const created = await submit(
      requester.token,
      draft('approve me', { rollback: 'target', continueOnFailure: true, maxFailPercentage: 50 }, [copyStep]),
    );
    expect(created).toMatchObject({ approvalRequired: true, risk: 'change' });
    const waiting = await waitForJob(
      apiUrl,
      requester.token,
      created.id,
      (j) => j.status === 'awaiting_approval',
      30_000,
    );
    expect(waiting.progress?.approval).toMatchObject({
      required: true,
      status: 'pending',
      planHash: created.planHash,
      requestedBy: 'rita-requester',
      fourEyes: true,
    });
    expect(waiting.results).toEqual([]);

    const asViewer = await control(apiUrl, viewer.token, created.id, 'approve', { planHash: created.planHash });
    expect(asViewer.status).toBe(403);
    expect(asViewer.body.error?.message).toMatch(/needs the approver role/);
    const asRequester = await control(apiUrl, requester.token, created.id, 'approve', { planHash: created.planHash });
    expect(asRequester.status).toBe(403);
    expect(asRequester.body.error?.message).toMatch(/four-eyes rule: rita-requester requested this job/);
    const stale = await control(apiUrl, approverA.token, created.id, 'approve', { planHash: 'f'.repeat(64) });
    expect(stale.status).toBe(409);
    expect(stale.body.error?.message).toMatch(/the plan changed/);
    const badBody = await control(apiUrl, approverA.token, created.id, 'approve', { planHash: 'nope' });
    expect(badBody.status).toBe(400);
    // Still waiting, and still nothing ran.
    expect((await waitForJob(apiUrl, requester.token, created.id, () => true)).status).toBe('awaiting_approval');
    expect(
      (await h.stack.pool.query('SELECT count(*)::int AS n FROM step_results WHERE job_id = $1', [created.id])).rows[0]
        .n,
    ).toBe(0);

    const ok = await control(apiUrl, approverA.token, created.id, 'approve', {
      planHash: created.planHash,
      comment: 'CHG-42, checked with the app team',
    });
    expect(ok.status).toBe(200);
    const job = await waitForJob(apiUrl, requester.token, created.id, undefined, 60_000);
    expect(job.status).toBe('completed');
    expect(job.approval).toMatchObject({
      status: 'approved',
      by: 'alice-approver',
      comment: 'CHG-42, checked with the app team',
      planHash: created.planHash,
    });
    const audit = await h.stack.pool.query(
      `SELECT actor, plan_hash, source_ip, details FROM audit_log WHERE job_id = $1 AND action = 'job.approve'`,
      [created.id],
    );
    expect(audit.rows).toEqual([
      {
        actor: 'alice-approver',
        plan_hash: created.planHash,
        source_ip: expect.stringMatching(/127\.0\.0\.1/),
        details: { comment: 'CHG-42, checked with the app team' },
      },
    ]);
    expect(await contents()).toEqual(h.fleet.hosts.map(() => NEW));
    await resetHosts();
  }, 120_000);

  it('lets an approver reject (nothing runs) and rejects by itself when nobody answers in time', async () => {
    const rejected = await submit(requester.token, draft('reject me', {}, [copyStep]));
    await waitForJob(apiUrl, requester.token, rejected.id, (j) => j.status === 'awaiting_approval', 30_000);
    expect(
      (await control(apiUrl, approverB.token, rejected.id, 'reject', { comment: 'not in the change window' })).status,
    ).toBe(200);
    const after = await waitForJob(apiUrl, requester.token, rejected.id);
    expect(after).toMatchObject({
      status: 'rejected',
      approval: { status: 'rejected', by: 'bob-admin', comment: 'not in the change window' },
    });
    expect(after.results).toEqual([]);
    // A decided approval cannot be decided again.
    expect(
      (await control(apiUrl, approverA.token, rejected.id, 'approve', { planHash: rejected.planHash })).status,
    ).toBe(409);

    const settings = await requestJson(`${apiUrl}/api/tenant/settings`, {
      method: 'PUT',
      token: h.admin.token,
      body: { fourEyes: true, approvalTimeoutSeconds: 5 },
    });
    expect(settings.status).toBe(200);
    try {
      const ignored = await submit(requester.token, draft('nobody answers', {}, [copyStep]));
      const timedOut = await waitForJob(apiUrl, requester.token, ignored.id, undefined, 30_000);
      expect(timedOut).toMatchObject({ status: 'rejected', approval: { status: 'timed_out', by: 'workflow' } });
      expect(timedOut.results).toEqual([]);
    } finally {
      await requestJson(`${apiUrl}/api/tenant/settings`, {
        method: 'PUT',
        token: h.admin.token,
        body: { fourEyes: true, approvalTimeoutSeconds: 86_400 },
      });
    }
    expect(await contents()).toEqual(h.fleet.hosts.map(() => OLD));
  }, 90_000);
});

describe('targets that fail', () => {
  it('drop out of later steps and have their completed changes undone (rollback: target); the others finish', async () => {
    const created = await submit(
      operator.token,
      draft('copy then check', { rollback: 'target', continueOnFailure: true, maxFailPercentage: 50 }, [
        copyStep,
        checkStep,
        { ...checkStep, id: 'check-again' },
      ]),
    );
    const job = await approveAndWait(apiUrl, operator.token, approverA.token, created, 90_000);
    rolledBackJob = created.id;
    expect(job.status).toBe('failed');
    const column = (i: number) => job.progress!.targets.indexOf(h.fleet.hosts[i]!.name);
    for (const i of h.fleet.hosts.keys()) {
      const cells = job.progress!.matrix.map((row) => row[column(i)]).join('');
      expect(cells, h.fleet.hosts[i]!.name).toBe(FAILING.has(i) ? 'RF-' : 'SSS');
    }
    expect(job.progress!.targetProgress).toMatchObject({ total: SIZE, completed: 4, failed: 2, rolledBack: 2 });
    expect(await contents()).toEqual(h.fleet.hosts.map((_, i) => (FAILING.has(i) ? OLD : NEW)));
    const undo = job.results.filter((r) => r.stepId === 'copy.rollback');
    expect(undo.map((r) => r.target.name).sort()).toEqual([...FAILING].map((i) => h.fleet.hosts[i]!.name).sort());
    expect(undo.every((r) => r.status === 'succeeded')).toBe(true);
    await resetHosts();
  }, 120_000);

  it('asks "continue, or roll back?" past the fail threshold: an approver may continue', async () => {
    const created = await submit(
      operator.token,
      draft('ask then continue', {
        rollback: 'target',
        continueOnFailure: true,
        maxFailPercentage: 20,
        onFailThreshold: 'ask',
        maxParallel: 1,
      }),
    );
    await control(apiUrl, approverA.token, created.id, 'approve', { planHash: created.planHash });
    const asking = await waitForJob(
      apiUrl,
      operator.token,
      created.id,
      (j) => j.status === 'awaiting_decision',
      60_000,
    );
    expect(asking.progress?.decision).toMatchObject({
      status: 'pending',
      reason: expect.stringMatching(/2 of 6 targets failed \(33%\), more than the 20% the plan allows/),
    });
    // Going on is a new risk: not for an operator.
    const refused = await control(apiUrl, operator.token, created.id, 'decide', { choice: 'continue' });
    expect(refused.status).toBe(403);
    expect(
      (await control(apiUrl, approverB.token, created.id, 'decide', { choice: 'continue', comment: 'known bad hosts' }))
        .status,
    ).toBe(200);
    const job = await waitForJob(apiUrl, operator.token, created.id, undefined, 60_000);
    expect(job.status).toBe('failed');
    expect(job.progress?.decision).toMatchObject({ status: 'continue', decidedBy: 'bob-admin' });
    expect(job.progress!.targetProgress).toMatchObject({ completed: 4, rolledBack: 2 });
    expect(await contents()).toEqual(h.fleet.hosts.map((_, i) => (FAILING.has(i) ? OLD : NEW)));
    expect(job.events.map((e) => e.action)).toEqual(['approve', 'decide']);
    await resetHosts();
  }, 120_000);

  it('rolls every target back when the answer is "roll back"', async () => {
    const created = await submit(
      operator.token,
      draft('ask then roll back', {
        rollback: 'target',
        continueOnFailure: true,
        maxFailPercentage: 20,
        onFailThreshold: 'ask',
        maxParallel: 1,
      }),
    );
    await control(apiUrl, approverA.token, created.id, 'approve', { planHash: created.planHash });
    await waitForJob(apiUrl, operator.token, created.id, (j) => j.status === 'awaiting_decision', 60_000);
    expect((await control(apiUrl, operator.token, created.id, 'decide', { choice: 'rollback' })).status).toBe(200);
    const job = await waitForJob(apiUrl, operator.token, created.id, undefined, 60_000);
    expect(job.status).toBe('failed');
    expect(job.progress!.targetStates.every((s) => s === 'rolled_back')).toBe(true);
    expect(await contents()).toEqual(h.fleet.hosts.map(() => OLD));
  }, 120_000);
});

describe('operators in control', () => {
  const slow = { id: 'wait', tool: 'run-command', params: { program: 'sleep', args: ['1'] }, targets: group };

  it('pause stops new targets from starting until resume', async () => {
    const created = await submit(operator.token, draft('pausable', { maxParallel: 1 }, [slow]));
    await control(apiUrl, approverA.token, created.id, 'approve', { planHash: created.planHash });
    await waitForJob(
      apiUrl,
      operator.token,
      created.id,
      (j) => (j.progress?.steps[0]?.targets.completed ?? 0) >= 1,
      30_000,
    );
    expect((await control(apiUrl, operator.token, created.id, 'pause')).status).toBe(200);
    const paused = await waitForJob(
      apiUrl,
      operator.token,
      created.id,
      (j) => j.status === 'paused' && j.progress?.steps[0]?.targets.running === 0,
      30_000,
    );
    const done = paused.progress!.steps[0]!.targets.completed;
    await new Promise((r) => setTimeout(r, 2_500));
    const still = await waitForJob(apiUrl, operator.token, created.id, () => true);
    expect(still.status).toBe('paused');
    expect(still.progress!.steps[0]!.targets.completed).toBe(done);
    expect((await control(apiUrl, operator.token, created.id, 'pause')).status).toBe(409);
    expect((await control(apiUrl, operator.token, created.id, 'resume')).status).toBe(200);
    expect((await waitForJob(apiUrl, operator.token, created.id, undefined, 60_000)).status).toBe('completed');
  }, 120_000);

  it('cancel mid-run with rollback: all leaves every host as it was', async () => {
    const created = await submit(
      operator.token,
      draft('cancel me', { rollback: 'all', maxParallel: 2 }, [copyStep, slow, { ...slow, id: 'wait-more' }]),
    );
    await control(apiUrl, approverA.token, created.id, 'approve', { planHash: created.planHash });
    await waitForJob(
      apiUrl,
      operator.token,
      created.id,
      (j) => (j.progress?.steps[1]?.targets.completed ?? 0) >= 2,
      60_000,
    );
    const cancelled = await control(apiUrl, operator.token, created.id, 'cancel', { comment: 'wrong build' });
    expect(cancelled.status).toBe(200);
    const job = await waitForJob(apiUrl, operator.token, created.id, undefined, 60_000);
    expect(job.status).toBe('cancelled');
    expect(job.progress!.targetStates.every((s) => s === 'rolled_back')).toBe(true);
    expect(job.progress!.matrix[0]).toBe('RRRRRR');
    expect(await contents()).toEqual(h.fleet.hosts.map(() => OLD));
    expect((await control(apiUrl, operator.token, created.id, 'cancel')).status).toBe(409);
  }, 120_000);
});

describe('live events', () => {
  it('streams output lines within a second and progress snapshots over SSE, resumable with Last-Event-ID', async () => {
    const script = 'for i in 1 2 3 4 5 6; do echo "line $i of $(hostname)"; sleep 0.4; done; echo done >&2';
    const created = await submit(
      operator.token,
      draft('chatty', { maxParallel: 2 }, [
        {
          id: 'talk',
          tool: 'run-script',
          params: { script },
          targets: { targets: [h.fleet.hosts[0]!.name, h.fleet.hosts[2]!.name] },
        },
      ]),
    );
    await control(apiUrl, approverA.token, created.id, 'approve', { planHash: created.planHash });
    const url = `${apiUrl}/api/jobs/${created.id}/events`;
    const events = await readEvents(url, { token: viewer.token, timeoutMs: 60_000 });
    const logs = events.filter((e) => e.event === 'log');
    const lines = logs.map(
      (e) => JSON.parse(e.data) as { line: string; target: string; stream: string; at: string; stepId: string },
    );
    expect(lines.filter((l) => l.stream === 'stdout')).toHaveLength(12);
    expect(lines.filter((l) => l.stream === 'stderr').map((l) => l.line)).toEqual(['done', 'done']);
    expect(new Set(lines.map((l) => l.stepId))).toEqual(new Set(['talk']));
    // Each line reached the client within a second of the executor reading it.
    for (const [i, e] of logs.entries()) expect(e.receivedAt - Date.parse(lines[i]!.at)).toBeLessThan(1_000);
    // The first lines arrived while the job still ran.
    const end = events.find((e) => e.event === 'end')!;
    expect(JSON.parse(end.data)).toEqual({ status: 'completed' });
    expect(end.receivedAt - logs[0]!.receivedAt).toBeGreaterThan(1_000);
    const progress = events
      .filter((e) => e.event === 'progress')
      .map((e) => JSON.parse(e.data) as { status: string; steps: { targets: { running: number } }[] });
    expect(progress.some((p) => p.status === 'running' && p.steps[0]!.targets.running > 0)).toBe(true);
    expect(progress.at(-1)?.status).toBe('completed');
    // Ids are increasing sequence numbers; resuming after the fourth line gives exactly the rest.
    const ids = logs.map((e) => BigInt(e.id!));
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);
    const resumed = await readEvents(url, { token: viewer.token, lastEventId: logs[3]!.id!, timeoutMs: 30_000 });
    expect(resumed.filter((e) => e.event === 'log').map((e) => e.id)).toEqual(logs.slice(4).map((e) => e.id));
    const bad = await requestJson(url, { token: viewer.token, headers: { 'last-event-id': 'yesterday' } });
    expect(bad.status).toBe(400);
  }, 90_000);
});

describe('history, search and scale', () => {
  it("lists jobs with filters, and Temporal finds a tenant's failed jobs by search attribute, with the plan summary in the memo", async () => {
    const all = await requestJson<{
      jobs: {
        id: string;
        status: string;
        requestedBy: string;
        targetGroup: string;
        durationSeconds: number | null;
        origin: { kind: string };
      }[];
    }>(`${apiUrl}/api/jobs?limit=100`, { token: viewer.token });
    expect(all.status).toBe(200);
    expect(all.body.jobs.length).toBeGreaterThanOrEqual(9);
    const rejected = await requestJson<{ jobs: { status: string }[] }>(`${apiUrl}/api/jobs?status=rejected`, {
      token: viewer.token,
    });
    expect(rejected.body.jobs).toHaveLength(2);
    const byRequester = await requestJson<{ jobs: { requestedBy: string }[] }>(
      `${apiUrl}/api/jobs?requester=rita-requester&group=Rollout`,
      { token: viewer.token },
    );
    expect(byRequester.body.jobs.length).toBe(3);
    expect(byRequester.body.jobs.every((j) => j.requestedBy === 'rita-requester')).toBe(true);
    const bad = await requestJson<{ error: { issues: { path: string }[] } }>(`${apiUrl}/api/jobs?status=sideways`, {
      token: viewer.token,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues[0]?.path).toMatch(/^query\.status/);

    const tenantId = (
      await requestJson<{ user: { tenantId: string } }>(`${apiUrl}/api/auth/me`, { token: viewer.token })
    ).body.user.tenantId;
    const failed: string[] = [];
    for await (const wf of h.stack.client.workflow.list({
      query: `OpscTenant = '${tenantId}' AND OpscStatus = 'failed'`,
    }))
      failed.push(wf.workflowId);
    const failedInDb = all.body.jobs.filter((j) => j.status === 'failed').map((j) => j.id);
    expect(failed.sort()).toEqual(failedInDb.sort());
    const description = await h.stack.client.workflow.getHandle(failed[0]!).describe();
    expect(description.memo).toMatchObject({
      planHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      risk: 'change',
      approvalRequired: true,
    });
    expect(description.searchAttributes).toMatchObject({
      OpscRequester: [expect.any(String)],
      OpscTargetGroup: ['Rollout'],
      OpscRisk: ['change'],
      OpscStatus: ['failed'],
      OpscOrigin: ['manual'],
    });
    expect(description.memo).toMatchObject({ origin: { kind: 'manual' } });
    expect(all.body.jobs.every((j) => j.origin.kind === 'manual')).toBe(true);
  });

  it('continues as new when its history grows past the budget, without losing a target', async () => {
    // A second API whose jobs get a small history budget.
    const small = await h.stack.startOrchestrator({ JOB_HISTORY_EVENT_LIMIT: '200' });
    const steps = Array.from({ length: 8 }, (_, i) => ({
      id: `df-${i}`,
      tool: 'disk-space',
      params: { path: '/' },
      targets: group,
    }));
    const created: Created = await submitDraft(
      small.apiUrl,
      operator.token,
      draft('many small steps', { maxParallel: 3 }, steps),
    );
    expect(created.approvalRequired).toBe(false);
    const job = await waitForJob(small.apiUrl, operator.token, created.id, undefined, 120_000);
    expect(job.status).toBe('completed');
    expect(job.progress!.runs).toBeGreaterThanOrEqual(2);
    expect(job.progress!.matrix).toEqual(steps.map(() => 'S'.repeat(SIZE)));
    expect(job.results.filter((r) => r.status === 'succeeded')).toHaveLength(8 * SIZE);
    let runs = 0;
    for await (const wf of h.stack.client.workflow.list({ query: `WorkflowId = '${created.id}'` })) {
      runs += 1;
      expect(wf.historyLength).toBeLessThan(400);
    }
    expect(runs).toBe(job.progress!.runs);
    await small.service.stop();
  }, 150_000);

  it("pages through a job's results in plan order, each step's undo rows after it, filtered by target, step and status", async () => {
    expect(rolledBackJob).not.toBe('');
    const url = `${apiUrl}/api/jobs/${rolledBackJob}/results`;
    type Page = { results: StepResultView[]; next: { after: string } | null };
    const key = (r: StepResultView) => `${r.stepId} ${r.target.name}`;
    const failing = [...FAILING].map((i) => h.fleet.hosts[i]!.name).sort();
    const names = h.fleet.hosts.map((x) => x.name).sort();

    // The job's own answer stays small: no results in it, a link to them.
    const detail = await requestJson<Record<string, unknown> & { links: Record<string, string> }>(
      `${apiUrl}/api/jobs/${rolledBackJob}`,
      { token: viewer.token },
    );
    expect(detail.body).not.toHaveProperty('results');
    expect(detail.body.links.results).toBe(`/api/jobs/${rolledBackJob}/results`);

    const whole = await requestJson<Page>(`${url}?limit=1000`, { token: viewer.token });
    expect(whole.status).toBe(200);
    expect(whole.body.next).toBeNull();
    // Step by step as planned, the copy's undo rows right after the copy; targets by name within a step.
    // Skipped targets have no row: the failing two did not run check-again.
    expect(whole.body.results.map(key)).toEqual([
      ...names.map((n) => `copy ${n}`),
      ...failing.map((n) => `copy.rollback ${n}`),
      ...names.map((n) => `check ${n}`),
      ...names.filter((n) => !failing.includes(n)).map((n) => `check-again ${n}`),
    ]);
    expect(whole.body.results.find((r) => r.stepId === 'copy')).toMatchObject({
      status: 'succeeded',
      facts: { backup: expect.any(String) },
      stdout: expect.stringMatching(/^copied to \/opt\/app\/app\.conf/),
    });

    // Pages of 4: the same rows in the same order, each once, the last page saying there is no next.
    const first = await requestJson<Page>(`${url}?limit=4`, { token: viewer.token });
    expect(first.body.results.map(key)).toEqual(whole.body.results.slice(0, 4).map(key));
    expect(first.body.next?.after).toEqual(expect.any(String));
    expect((await allResults(apiUrl, viewer.token, rolledBackJob, '', 4)).map(key)).toEqual(
      whole.body.results.map(key),
    );

    const ofTarget = await allResults(apiUrl, viewer.token, rolledBackJob, `target=${encodeURIComponent(failing[0]!)}`);
    expect(ofTarget.map((r) => [r.stepId, r.status])).toEqual([
      ['copy', 'succeeded'],
      ['copy.rollback', 'succeeded'],
      ['check', 'failed'],
    ]);
    expect(ofTarget.find((r) => r.stepId === 'check')?.error).toMatchObject({ type: 'CommandFailed' });
    expect(
      (await allResults(apiUrl, viewer.token, rolledBackJob, 'step=copy.rollback')).map((r) => r.target.name),
    ).toEqual(failing);
    expect((await allResults(apiUrl, viewer.token, rolledBackJob, 'status=failed')).map(key)).toEqual(
      failing.map((n) => `check ${n}`),
    );
    expect(await allResults(apiUrl, viewer.token, rolledBackJob, 'status=pending')).toEqual([]);
    expect(await allResults(apiUrl, viewer.token, rolledBackJob, 'target=no-such-host')).toEqual([]);

    // Bad queries name the field; another tenant's job is not there.
    for (const [query, path] of [
      ['status=sideways', 'query.status'],
      ['limit=0', 'query.limit'],
      ['limit=1001', 'query.limit'],
      ['after=not-a-cursor', 'query.after'],
      ['colour=blue', 'query.colour'],
    ] as const) {
      const bad = await requestJson<{ error: { type: string; issues: { path: string }[] } }>(`${url}?${query}`, {
        token: viewer.token,
      });
      expect(bad.status, query).toBe(400);
      expect(bad.body.error.type).toBe('ValidationFailed');
      // A list parameter names the item too: query.status.0 for the first status.
      expect(
        bad.body.error.issues.map((i) => i.path.replace(/\.\d+$/, '')),
        query,
      ).toContain(path);
    }
    const stranger = await h.stack.createUser('viewer', { tenant: 'globex' });
    expect((await requestJson(url, { token: stranger.token })).status).toBe(404);
  });

  it('times a job from earlier runs of the same tool on the same targets, and says so', async () => {
    // The continue-as-new job above ran disk-space on every host of the group eight times.
    const created: Created = await submitDraft(
      apiUrl,
      operator.token,
      draft('timed', { maxParallel: 2 }, [{ id: 'df', tool: 'disk-space', params: { path: '/' }, targets: group }]),
    );
    const job = await waitForJob(apiUrl, operator.token, created.id, undefined, 60_000);
    expect(job.status).toBe('completed');
    const said = job.progress!.logs.find((l) => l.message.startsWith('Expected to take'));
    // A range, how sure it is and why: every target has its own history of the tool. Targets that
    // ended before the estimate was made are counted in it, and said to be ("23% done at ...").
    expect(said?.message).toMatch(
      /^Expected to take \d+–\d+ s \((high|medium) confidence: (\d+% done at [^;]+; )?history on all \d+ targets; dispatch learned from \d+ recent step\(s\)\)$/,
    );
    // A tool never run here falls back on its catalog estimate, or on nothing.
    const fresh: Created = await submitDraft(
      apiUrl,
      operator.token,
      draft('untimed', {}, [{ id: 'up', tool: 'process-check', params: { process: 'sshd' }, targets: group }]),
    );
    const first = await waitForJob(apiUrl, operator.token, fresh.id, undefined, 60_000);
    expect(first.status).toBe('completed');
    // process-check's catalog estimate, said to be only that: low confidence, no history on any target.
    const guessed = first.progress!.logs.find((l) => l.message.startsWith('Expected to take'));
    expect(guessed?.message).toMatch(
      /^Expected to take \d+–\d+ s \((?:low confidence: |(?:low|medium|high) confidence: \d+% done at [^;]+; )no history for (\d+) of \1 targets; 1 step\(s\) from the tool's estimate; dispatch learned from \d+ recent step\(s\)\)$/,
    );
  }, 120_000);

  it('keeps every secret out of every workflow history of this suite', async () => {
    const keyBody = h.fleet.clientKey.privateKey.split('\n')[2] ?? '';
    const secrets = [keyBody, h.fleet.clientKey.passphrase, ...h.fleet.hosts.map((x) => x.password)];
    let histories = 0;
    for await (const wf of h.stack.client.workflow.list()) {
      const text = JSON.stringify(await h.stack.client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory());
      for (const secret of secrets) expect(text.includes(secret), `${wf.workflowId} holds a secret`).toBe(false);
      histories += 1;
    }
    expect(histories).toBeGreaterThanOrEqual(10);
  }, 60_000);
});
