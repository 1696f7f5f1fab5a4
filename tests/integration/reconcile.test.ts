import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, requestJson, waitForJob, type JobView } from '../support/api.js';
import { control, type Created } from '../support/rollout.js';
import { Client } from '@temporalio/client';
import { reconcileJobs } from '@opsc/orchestrator/reconcile';
import { createTestStack, type TestStack } from '../support/stack.js';

type FinalView = JobView & { error: { type: string; message: string } | null; finishedAt: string | null };
interface AuditRow {
  actor: string;
  action: string;
  jobId: string;
  details: Record<string, unknown>;
}

/**
 * A workflow closed from outside (terminated in Temporal UI or CLI) cannot write its job's end: the
 * orchestrator's reconciliation finds such jobs and records the truth, audited. No executor runs
 * here, so a job that needs no approval stays `running`, its step waiting on the executor's queue.
 */
describe('reconciliation of jobs whose workflow was closed from outside', () => {
  let stack: TestStack;
  let api: string;
  let operator: string;
  let approver: string;
  let admin: string;
  /** The job of the first test, closed by then: later passes must leave it as it is. */
  let firstClosed: string | undefined;

  beforeAll(async () => {
    stack = await createTestStack('reconcile');
    // Two orchestrators sweep the same jobs at once, as a scaled-out deployment does: each closed
    // job is still recorded once.
    [{ apiUrl: api }] = await Promise.all([
      stack.startOrchestrator({ JOB_RECONCILE_INTERVAL_SECONDS: '1' }),
      stack.startOrchestrator({ JOB_RECONCILE_INTERVAL_SECONDS: '1' }),
    ]);
    ({ token: operator } = await stack.createUser('operator'));
    ({ token: approver } = await stack.createUser('approver'));
    ({ token: admin } = await stack.createUser('admin'));
  });

  afterAll(async () => {
    await stack?.close();
  });

  const submit = async (name: string, command: string, args: string[]): Promise<Created> => {
    const { status, body } = await requestJson<Created>(`${api}/api/jobs`, {
      token: operator,
      body: { plan: { name, steps: [{ id: 's', name, action: { method: 'local-command', command, args } }] } },
    });
    if (status !== 201) throw new Error(`POST /api/jobs: ${status} ${JSON.stringify(body)}`);
    return body;
  };
  const reconciled = async (jobId: string): Promise<AuditRow[]> => {
    const { status, body } = await requestJson<{ entries: AuditRow[] }>(
      `${api}/api/audit?jobId=${jobId}&action=job.reconciled`,
      { token: admin },
    );
    expect(status).toBe(200);
    return body.entries;
  };
  const row = async (jobId: string) =>
    (
      await stack.pool.query<{ status: string; finished_at: Date | null; error_type: string | null }>(
        'SELECT status, finished_at, error_type FROM jobs WHERE id = $1',
        [jobId],
      )
    ).rows[0];

  it('records a job awaiting approval whose workflow was terminated as failed, naming how, and audits it', async () => {
    const job = await submit('touch a file', 'touch', ['/tmp/opsc-reconcile']);
    expect(job.approvalRequired).toBe(true);
    await waitForJob(api, operator, job.id, (j) => j.status === 'awaiting_approval', 30_000);
    await stack.client.workflow.getHandle(job.id).terminate('operator gave up in the UI');

    const after = (await waitForJob(
      api,
      operator,
      job.id,
      (j) => j.status !== 'awaiting_approval',
      30_000,
    )) as FinalView;
    expect(after.status).toBe('failed');
    expect(after.error?.type).toBe('WorkflowClosed');
    expect(after.error?.message).toMatch(
      /^its workflow was terminated in Temporal \(reason: "operator gave up in the UI"/,
    );
    expect(after.finishedAt).not.toBeNull();
    const audit = await reconciled(job.id);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      actor: 'reconciler',
      action: 'job.reconciled',
      jobId: job.id,
      details: { from: 'awaiting_approval', to: 'failed', workflow: 'TERMINATED' },
    });
    // Final is final: later passes neither change it nor audit it again, and no decision reopens it.
    expect((await control(api, approver, job.id, 'approve', { planHash: job.planHash })).status).not.toBe(200);
    expect(await row(job.id)).toMatchObject({ status: 'failed', error_type: 'WorkflowClosed' });
    firstClosed = job.id;
  });

  it('records a running job whose workflow was terminated, and never touches a job whose workflow runs or a finished one', async () => {
    const keep = await submit('print the date', 'date', ['+%F']);
    const rejected = await submit('touch another file', 'touch', ['/tmp/opsc-reconcile-2']);
    await waitForJob(api, operator, rejected.id, (j) => j.status === 'awaiting_approval', 30_000);
    expect((await control(api, approver, rejected.id, 'reject', { comment: 'not today' })).status).toBe(200);
    await waitForJob(api, operator, rejected.id, (j) => j.status === 'rejected', 30_000);
    const rejectedRow = await row(rejected.id);
    const doomed = await submit('print the date again', 'date', ['+%T']);
    await waitForJob(api, operator, keep.id, (j) => j.status === 'running', 30_000);
    await waitForJob(api, operator, doomed.id, (j) => j.status === 'running', 30_000);
    await stack.client.workflow.getHandle(doomed.id).terminate();

    const after = (await waitForJob(api, operator, doomed.id, (j) => j.status !== 'running', 30_000)) as FinalView;
    expect(after.status).toBe('failed');
    expect(after.error).toEqual({
      type: 'WorkflowClosed',
      message: expect.stringMatching(
        /^its workflow was terminated in Temporal .*before it recorded how the job ended/,
      ) as unknown,
    });
    const audit = await reconciled(doomed.id);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ details: { from: 'running', to: 'failed', workflow: 'TERMINATED' } });

    // The pass that closed `doomed` saw `keep` too (all open jobs, every pass): its workflow runs, so it stays as it is.
    const kept = await row(keep.id);
    expect(kept).toMatchObject({ status: 'running', finished_at: null, error_type: null });
    expect(await reconciled(keep.id)).toEqual([]);
    expect((await stack.client.workflow.getHandle(keep.id).describe()).status.name).toBe('RUNNING');
    expect(await row(rejected.id)).toEqual(rejectedRow);
    expect(await reconciled(rejected.id)).toEqual([]);
    // Many passes of both sweepers later, the first job still has its one audit entry.
    expect(firstClosed).toBeDefined();
    expect(await reconciled(firstClosed!)).toHaveLength(1);
  });
  it("leaves open the jobs a Temporal namespace does not know when it knows none of this database's jobs (a wrong TEMPORAL_NAMESPACE)", async () => {
    const waiting = await submit('touch a third file', 'touch', ['/tmp/opsc-reconcile-3']);
    await waitForJob(api, operator, waiting.id, (j) => j.status === 'awaiting_approval');
    const logged: string[] = [];
    const log = {
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: (msg: string) => void logged.push(msg),
    };
    // The same database seen from the server's other namespace, where none of its workflows are.
    const elsewhere = new Client({ connection: stack.client.connection, namespace: 'default' });
    const pass = await eventually(
      async () =>
        (await reconcileJobs({
          pool: stack.pool,
          client: elsewhere,
          namespace: 'default',
          log,
          missingGraceSeconds: 0,
        })) ?? undefined,
      30_000,
      'a pass of its own',
    );
    expect(pass.checked).toBeGreaterThan(0);
    expect(pass.closed).toBe(0);
    expect(logged).toEqual([
      expect.stringMatching(/does not know the workflows of this database's recent jobs.*TEMPORAL_NAMESPACE/),
    ]);
    const row = await stack.pool.query('SELECT status FROM jobs WHERE id = $1', [waiting.id]);
    expect(row.rows[0]).toEqual({ status: 'awaiting_approval' });
  });
});
