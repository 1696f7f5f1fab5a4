import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { REPO_ROOT } from '@opsc/dev';
import { allowEgress, requestJson, waitForJob } from '../support/api.js';
import { control, type Created } from '../support/rollout.js';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.js';
import { recorder } from '../support/recorder.js';

// A second review of the executor's job gate, by someone who reaches Temporal on loopback (a worker
// and workflows of their own, under a job's id) and holds an ordinary account of one tenant.

type Outcome = { ran: boolean; output?: unknown; message?: string };

/**
 * The attacker's workflows, run on a task queue of their own. `replay` runs activities one after the
 * other (`[queue, activity, input]`) and says how each went; `selfApproved` takes the job's approve
 * update as the job's workflow would (confirming the decision the API recorded), then runs `replay`.
 */
const ROGUE = `import { condition, defineUpdate, proxyActivities, setHandler } from '@temporalio/workflow';
const once = (taskQueue) => proxyActivities({ taskQueue, startToCloseTimeout: '60s', retry: { maximumAttempts: 1 } });
const outcome = async (work) => {
  try {
    return { ran: true, output: await work() };
  } catch (err) {
    return { ran: false, message: String((err && err.cause && err.cause.message) || err) };
  }
};
export const replay = async (calls) => {
  const outcomes = [];
  for (const [queue, activity, input] of calls) outcomes.push(await outcome(() => once(queue)[activity](input)));
  return outcomes;
};
export const selfApproved = async (calls) => {
  let confirmed = null;
  setHandler(defineUpdate('approve'), async (ref) => {
    confirmed = await once('orchestrator').confirmDecision({ decisionId: ref.decisionId, action: 'approve', claimed: {} });
    return { status: 'running', message: 'approved' };
  });
  await condition(() => confirmed !== null);
  return [{ ran: true, output: confirmed }, ...(await replay(calls))];
};
`;

describe("the executor's job gate, attacked again", () => {
  let h: SshHarness;
  let apiUrl: string;
  let operator: { token: string; username: string };
  let approver: { token: string };
  let listener: Awaited<ReturnType<typeof recorder>>;
  let connection: NativeConnection;
  let worker: Worker;
  let running: Promise<void>;
  const queue = `rogue-${randomUUID()}`;

  beforeAll(async () => {
    h = await startSshHarness('gate-attack', { size: 1, host: () => ({ sudo: 'nopasswd' }) });
    apiUrl = h.orchestrator.apiUrl;
    await h.stack.startExecutor();
    operator = await h.stack.createUser('operator', { tenant: 'acme' });
    approver = await h.stack.createUser('approver', { tenant: 'acme' });
    listener = await recorder();
    await allowEgress(apiUrl, h.admin.token, [listener.host]);
    await mkdir(path.join(REPO_ROOT, '.cache'), { recursive: true });
    const dir = await mkdtemp(path.join(REPO_ROOT, '.cache', 'rogue-workflow-'));
    await writeFile(path.join(dir, 'rogue.js'), ROGUE);
    connection = await NativeConnection.connect({ address: inject('temporalAddress') });
    worker = await Worker.create({
      connection,
      namespace: h.stack.namespace,
      taskQueue: queue,
      workflowsPath: path.join(dir, 'rogue.js'),
    });
    running = worker.run();
  }, 240_000);

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await connection?.close();
    listener?.server.close();
    await h?.close();
  });

  const submit = async (plan: unknown, token = operator.token): Promise<Created> => {
    const res = await requestJson<Created>(`${apiUrl}/api/jobs`, { token, body: { plan } });
    if (res.status !== 201) throw new Error(`POST /api/jobs: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  /** Runs a rogue workflow under the job's own id (the job's own workflow, if it still runs, is terminated first). */
  const underJobId = async (jobId: string, workflow: 'replay' | 'selfApproved', calls: unknown[][]) => {
    const handle = h.stack.client.workflow.getHandle(jobId);
    if ((await handle.describe()).status.name === 'RUNNING') await handle.terminate('replaced by a workflow of my own');
    return h.stack.client.workflow.start<(calls: unknown[][]) => Promise<Outcome[]>>(workflow, {
      taskQueue: queue,
      workflowId: jobId,
      args: [calls],
    });
  };
  const posts = (tag: string) => listener.hits.filter((hit) => hit.startsWith(`POST /${tag}`));

  it('cannot bring a finished job back to life and run its approved change again', async () => {
    const tag = `again-${randomUUID()}`;
    const url = `http://${listener.host}/${tag}`;
    const job = await submit({
      name: 'post once',
      steps: [{ id: 'post', name: 'POST', action: { method: 'http', url, httpMethod: 'POST', body: 'x' } }],
    });
    await waitForJob(apiUrl, operator.token, job.id, (j) => j.status === 'awaiting_approval', 30_000);
    expect((await control(apiUrl, approver.token, job.id, 'approve', { planHash: job.planHash })).status).toBe(200);
    expect((await waitForJob(apiUrl, operator.token, job.id, undefined, 60_000)).status).toBe('completed');
    expect(posts(tag)).toHaveLength(1);
    // A closed workflow's id may be used again (Temporal's default): the job's record says "running"
    // again through the job's own bookkeeping activity, and the approved POST is sent once more.
    const rogue = await underJobId(job.id, 'replay', [
      ['orchestrator', 'recordJobStatus', { jobId: job.id, status: 'running' }],
      [
        'executor',
        'sendHttpRequest',
        {
          jobId: job.id,
          tenantId: h.admin.tenantId,
          stepId: 'post',
          target: { id: 'executor', name: 'executor' },
          timeoutSeconds: 300,
          url,
          httpMethod: 'POST',
          headers: {},
          body: 'x',
        },
      ],
    ]);
    const outcomes = await rogue.result();
    expect(posts(tag), JSON.stringify(outcomes)).toHaveLength(1);
    expect(outcomes.at(-1)?.ran).toBe(false);
    expect((await waitForJob(apiUrl, operator.token, job.id, () => true)).status).toBe('completed');
  });

  it("cannot run a finished job's approved change again the moment the job ends", async () => {
    const tag = `moment-${randomUUID()}`;
    const url = `http://${listener.host}/${tag}`;
    const job = await submit({
      name: 'post once',
      steps: [{ id: 'post', name: 'POST', action: { method: 'http', url, httpMethod: 'POST', body: 'x' } }],
    });
    await waitForJob(apiUrl, operator.token, job.id, (j) => j.status === 'awaiting_approval', 30_000);
    expect((await control(apiUrl, approver.token, job.id, 'approve', { planHash: job.planHash })).status).toBe(200);
    // Whoever reaches Temporal sees the workflow close, and asks at once.
    await h.stack.client.workflow.getHandle(job.id).result();
    const rogue = await underJobId(job.id, 'replay', [
      [
        'executor',
        'sendHttpRequest',
        {
          jobId: job.id,
          tenantId: h.admin.tenantId,
          stepId: 'post',
          target: { id: 'executor', name: 'executor' },
          timeoutSeconds: 300,
          url,
          httpMethod: 'POST',
          headers: {},
          body: 'x',
        },
      ],
    ]);
    const outcomes = await rogue.result();
    expect(posts(tag), JSON.stringify(outcomes)).toHaveLength(1);
    expect(outcomes[0]?.message).toMatch(/is over \(completed\)/);
  });

  it('cannot run an approved step again as a re-run (decide retry) that no retry decision allows', async () => {
    const tag = `rerun-${randomUUID()}`;
    const url = `http://${listener.host}/${tag}`;
    const job = await submit({
      name: 'post, then wait',
      steps: [
        { id: 'post', name: 'POST', action: { method: 'http', url, httpMethod: 'POST', body: 'x' } },
        { id: 'pause', name: 'Pause', action: { method: 'timer', seconds: 600 } },
      ],
    });
    await waitForJob(apiUrl, operator.token, job.id, (j) => j.status === 'awaiting_approval', 30_000);
    expect((await control(apiUrl, approver.token, job.id, 'approve', { planHash: job.planHash })).status).toBe(200);
    // The job waits in its pause, unfinished, its POST sent once.
    await waitForJob(apiUrl, operator.token, job.id, (j) => j.progress?.stepName === 'Pause', 60_000);
    expect(posts(tag)).toHaveLength(1);
    const post = (rerun: unknown) => [
      'executor',
      'sendHttpRequest',
      {
        jobId: job.id,
        tenantId: h.admin.tenantId,
        stepId: 'post',
        target: { id: 'executor', name: 'executor' },
        timeoutSeconds: 300,
        rerun,
        url,
        httpMethod: 'POST',
        headers: {},
        body: 'x',
      },
    ];
    const rogue = await underJobId(job.id, 'replay', [post(1), post(3), post('1')]);
    const outcomes = await rogue.result();
    expect(posts(tag), JSON.stringify(outcomes)).toHaveLength(1);
    expect(outcomes.map((o) => o.ran)).toEqual([false, false, false]);
    expect(outcomes[0]?.message).toMatch(/no retry decision of job .* runs step post again as re-run 1/);
    expect(outcomes[2]?.message).toMatch(/is not a re-run of step post/);
  });

  it("cannot run a command of their own as root through an execution's timeout", async () => {
    // A read-only wait needs nobody's approval; while it waits the job is unfinished.
    const job = await submit({
      name: 'wait for a service',
      steps: [
        {
          id: 'wait',
          name: 'Wait',
          targets: { targets: [h.fleet.hosts[0]!.name] },
          action: {
            method: 'ssh',
            become: true,
            operation: { op: 'service-wait', name: 'opsc-never', state: 'active', timeoutSeconds: 240 },
          },
        },
      ],
    });
    expect(job.approvalRequired).toBe(false);
    await waitForJob(apiUrl, operator.token, job.id, (j) => j.status === 'running', 30_000);
    const recorded = await h.stack.pool.query<{
      plan: { steps: { action: { operation: unknown; become: boolean } }[] };
    }>('SELECT plan FROM jobs WHERE id = $1', [job.id]);
    const step = recorded.rows[0]!.plan.steps[0]!;
    const proof = `/tmp/opsc-pwned-${randomUUID()}`;
    const rogue = await underJobId(job.id, 'replay', [
      [
        'executor',
        'runSshOperation',
        {
          jobId: job.id,
          stepId: 'wait',
          target: { id: h.targetIds[0], name: h.fleet.hosts[0]!.name },
          // Everything the gate compares is the plan's; the timeout is the attacker's.
          timeoutSeconds: `$(id -un > ${proof}) 1`,
          operation: step.action.operation,
          become: step.action.become,
        },
      ],
    ]);
    const outcomes = await rogue.result();
    const check = await h.fleet.exec(0, `cat ${proof} 2>/dev/null || echo absent`);
    expect(check.stdout.trim(), JSON.stringify(outcomes)).toBe('absent');
    expect(outcomes[0]?.ran).toBe(false);
  });

  it('cannot approve their own change under four-eyes and have the executor run it', async () => {
    // Ann may approve, but not the jobs she asks for (the tenant has four-eyes on, the default).
    const ann = await h.stack.createUser('approver', { tenant: 'acme', username: 'ann-approver' });
    const tag = `self-${randomUUID()}`;
    const url = `http://${listener.host}/${tag}`;
    const job = await submit(
      {
        name: 'my own change',
        steps: [{ id: 'post', name: 'POST', action: { method: 'http', url, httpMethod: 'POST', body: 'x' } }],
      },
      ann.token,
    );
    await waitForJob(apiUrl, ann.token, job.id, (j) => j.status === 'awaiting_approval', 30_000);
    // Through the API her approval is refused by the job's workflow.
    expect((await control(apiUrl, ann.token, job.id, 'approve', { planHash: job.planHash })).status).toBe(403);
    // Her own workflow under the job's id takes her next approval up, and asks the executor for the POST.
    const rogue = await underJobId(job.id, 'selfApproved', [
      [
        'executor',
        'sendHttpRequest',
        {
          jobId: job.id,
          tenantId: h.admin.tenantId,
          stepId: 'post',
          target: { id: 'executor', name: 'executor' },
          timeoutSeconds: 300,
          url,
          httpMethod: 'POST',
          headers: {},
          body: 'x',
        },
      ],
    ]);
    await control(apiUrl, ann.token, job.id, 'approve', { planHash: job.planHash });
    const outcomes = await rogue.result();
    expect(posts(tag), JSON.stringify(outcomes)).toEqual([]);
    expect(outcomes.at(-1)?.ran).toBe(false);
  });
});
