import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXECUTOR_TARGET, type ExecutionMethod, type TargetRef } from '@opsc/contracts';
import { createJobGate, type ExecutionRequest, type JobGate } from '@opsc/activities/execution';
import { requestJson, waitForJob } from '../support/api.js';
import { control, type Created } from '../support/rollout.js';
import { uploadArtifact } from '../support/artifacts.js';
import { createTestStack, type TestStack } from '../support/stack.js';

/**
 * The executor's gate, as the executor's own database role sees the jobs the API recorded: it
 * admits exactly the plan's steps, on their targets, from the job's own workflow, once a person
 * approved; and nothing of a finished job. No executor runs here, so the jobs wait on its queue.
 */
describe("the executor's job gate", () => {
  let stack: TestStack;
  let api: string;
  let operator: string;
  let approver: string;
  let executorPool: pg.Pool;
  let gate: JobGate;
  const web: TargetRef[] = [];

  beforeAll(async () => {
    stack = await createTestStack('job-gate');
    api = (await stack.startOrchestrator()).apiUrl;
    ({ token: operator } = await stack.createUser('operator'));
    const { token, tenantId } = await stack.createUser('approver');
    approver = token;
    const cred = await stack.pool.query<{ id: string }>(
      `INSERT INTO credentials (tenant_id, name, kind, username, fingerprint) VALUES ($1, 'deploy', 'password', 'deploy', 'sha256:t') RETURNING id`,
      [tenantId],
    );
    for (const name of ['web-1', 'web-2', 'db-1']) {
      const t = await stack.pool.query<{ id: string }>(
        `INSERT INTO targets (tenant_id, name, address, os) VALUES ($1, $2, '127.0.0.9', 'linux') RETURNING id`,
        [tenantId, name],
      );
      await stack.pool.query(
        `INSERT INTO target_services (target_id, protocol, port, credential_id) VALUES ($1, 'ssh', 22, $2)`,
        [t.rows[0]!.id, cred.rows[0]!.id],
      );
      web.push({ id: t.rows[0]!.id, name });
    }
    executorPool = new pg.Pool({ connectionString: stack.roleUrls.executor, max: 2 });
    gate = createJobGate(executorPool);
  });

  afterAll(async () => {
    await executorPool?.end();
    await stack?.close();
  });

  const submit = async (plan: unknown, mode?: 'check'): Promise<Created> => {
    const { status, body } = await requestJson<Created>(`${api}/api/jobs`, {
      token: operator,
      body: { plan, ...(mode && { mode }) },
    });
    if (status !== 201) throw new Error(`POST /api/jobs: ${status} ${JSON.stringify(body)}`);
    return body;
  };
  const request = (
    jobId: string,
    over: Partial<ExecutionRequest> & { method: ExecutionMethod; fields: Record<string, unknown> },
  ): ExecutionRequest => ({
    workflowId: jobId,
    jobId,
    stepId: 's',
    target: EXECUTOR_TARGET,
    timeoutSeconds: 300,
    ...over,
  });
  const refusal = (promise: Promise<void>) =>
    promise.then(
      () => 'admitted',
      (err: Error & { type?: string; nonRetryable?: boolean }) =>
        `${err.type}${err.nonRetryable ? '' : ' (retryable)'}: ${err.message}`,
    );

  it("admits a read-only job's own step from its own workflow, and nothing else", async () => {
    const job = await submit({
      name: 'look',
      steps: [{ id: 's', name: 'date', action: { method: 'local-command', command: 'date', args: ['+%F'] } }],
    });
    const fields = { command: 'date', args: ['+%F'] };
    await expect(gate.admit(request(job.id, { method: 'local-command', fields }))).resolves.toBeUndefined();
    expect(
      await refusal(gate.admit(request(job.id, { method: 'local-command', fields, workflowId: 'mallory' }))),
    ).toMatch(/^Forbidden: .*came from workflow mallory/);
    expect(
      await refusal(
        gate.admit(
          request(job.id, { method: 'local-command', fields: { command: 'date', args: ['-f', '/etc/shadow'] } }),
        ),
      ),
    ).toMatch(/^Forbidden: .*is not what step s/);
    expect(
      await refusal(
        gate.admit(
          request(job.id, {
            method: 'http',
            fields: { url: 'http://127.0.0.1:7233/', httpMethod: 'GET', headers: {} },
          }),
        ),
      ),
    ).toMatch(/^Forbidden: .*is not what step s/);
    expect(await refusal(gate.admit(request(job.id, { method: 'local-command', fields, stepId: 'other' })))).toMatch(
      /^Forbidden: .*has no step other/,
    );
    expect(
      await refusal(gate.admit(request(job.id, { method: 'local-command', fields, timeoutSeconds: '$(id) 300' }))),
    ).toMatch(/^Forbidden: .*runs for 300 s, not \$\(id\) 300/);
    expect(await refusal(gate.admit(request(job.id, { method: 'local-command', fields, target: web[0]! })))).toMatch(
      /^Forbidden: .*runs on the executor, not on web-1/,
    );
    const ghost = 'job-00000000-0000-4000-8000-000000000000';
    expect(await refusal(gate.admit(request(ghost, { method: 'local-command', fields })))).toMatch(
      /^Forbidden: there is no job|^Forbidden: .*there is no job/,
    );
  });

  it('admits a change only once a person approved it, and nothing of a job that is over', async () => {
    const job = await submit({
      name: 'touch',
      steps: [{ id: 's', name: 'touch', action: { method: 'local-command', command: 'touch', args: ['/tmp/x'] } }],
    });
    expect(job.approvalRequired).toBe(true);
    const touch = request(job.id, { method: 'local-command', fields: { command: 'touch', args: ['/tmp/x'] } });
    await waitForJob(api, operator, job.id, (j) => j.status === 'awaiting_approval');
    expect(await refusal(gate.admit(touch))).toMatch(/^Forbidden: .*waits for approval/);
    expect((await control(api, approver, job.id, 'approve', { planHash: job.planHash })).status).toBe(200);
    await expect(gate.admit(touch)).resolves.toBeUndefined();
    // Nothing started it (no executor runs here): an interrupting cancel ends the job at once.
    expect((await control(api, operator, job.id, 'cancel', { mode: 'interrupt' })).status).toBe(200);
    await waitForJob(api, operator, job.id, (j) => j.status === 'cancelled');
    // The status is read at every request: the gate sees the job is over.
    await expect
      .poll(() => refusal(gate.admit(touch)), { timeout: 10_000, interval: 500 })
      .toMatch(/^Forbidden: .*is over \(cancelled\)/);
  });

  it("admits an undo only as the step's rollback filled with what the step reported on that target, and only on the step's targets", async () => {
    const sha256 = await uploadArtifact(api, operator, 'app.bin', 'app 2.0\n');
    const job = await submit({
      name: 'copy with undo',
      steps: [
        {
          id: 'copy',
          name: 'Copy',
          targets: { targets: ['web-1', 'web-2'] },
          action: {
            method: 'ssh',
            become: true,
            operation: { op: 'file-copy', source: 'app.bin', destination: '/opt/app/app.bin' },
          },
          rollback: {
            tool: 'file-restore',
            name: 'Restore',
            action: {
              method: 'ssh',
              become: true,
              operation: { op: 'file-restore', destination: '/opt/app/app.bin', backup: '{{facts.backup}}' },
            },
          },
        },
      ],
    });
    await waitForJob(api, operator, job.id, (j) => j.status === 'awaiting_approval');
    expect((await control(api, approver, job.id, 'approve', { planHash: job.planHash })).status).toBe(200);
    // What the executor stored when the step ran on web-1.
    await executorPool.query(
      `INSERT INTO step_results (job_id, step_id, target_id, target_name, attempt, method, stdout, stderr, facts, started_at, finished_at)
       VALUES ($1, 'copy', $2, 'web-1', 1, 'ssh', '', '', $3, now(), now())`,
      [job.id, web[0]!.id, JSON.stringify({ backup: '/var/backups/opsc/files/app.bin' })],
    );
    const restore = (backup: string | null, target: TargetRef) =>
      request(job.id, {
        stepId: 'copy.rollback',
        target,
        method: 'ssh',
        fields: { become: true, operation: { op: 'file-restore', destination: '/opt/app/app.bin', backup } },
      });
    // The API pinned the upload's SHA-256 into the plan: the executor copies that version, and no other.
    const copy = {
      become: true,
      operation: { op: 'file-copy', source: 'app.bin', sha256, destination: '/opt/app/app.bin', backup: true },
    };
    await expect(
      gate.admit(request(job.id, { stepId: 'copy', target: web[0]!, method: 'ssh', fields: copy })),
    ).resolves.toBeUndefined();
    const newer = await uploadArtifact(api, operator, 'app.bin', 'app 3.0\n');
    const forged = { ...copy, operation: { ...copy.operation, sha256: newer } };
    expect(
      await refusal(gate.admit(request(job.id, { stepId: 'copy', target: web[0]!, method: 'ssh', fields: forged }))),
    ).toMatch(/^Forbidden: /);
    await expect(gate.admit(restore('/var/backups/opsc/files/app.bin', web[0]!))).resolves.toBeUndefined();
    expect(await refusal(gate.admit(restore('/etc/shadow', web[0]!)))).toMatch(
      /^Forbidden: .*is not what step copy.rollback/,
    );
    // Nothing of the step on web-2 is on record yet (another executor may hold it): not admitted, asked again later.
    expect(await refusal(gate.admit(restore('/var/backups/opsc/files/app.bin', web[1]!)))).toMatch(
      /^Unavailable \(retryable\): what step copy reported on web-2 is not on record yet/,
    );
    // web-2 reported no backup: its undo cannot be made, so no undo of it runs.
    await executorPool.query(
      `INSERT INTO step_results (job_id, step_id, target_id, target_name, attempt, method, stdout, stderr, facts, started_at, finished_at)
       VALUES ($1, 'copy', $2, 'web-2', 1, 'ssh', '', '', '{}', now(), now())`,
      [job.id, web[1]!.id],
    );
    expect(await refusal(gate.admit(restore('/var/backups/opsc/files/app.bin', web[1]!)))).toMatch(
      /^Forbidden: .*needs backup, which the step did not report on web-2/,
    );
    expect(
      await refusal(gate.admit(request(job.id, { stepId: 'copy', target: web[2]!, method: 'ssh', fields: copy }))),
    ).toMatch(/^Forbidden: .*does not run on db-1/);
  });
  it("admits in a check-mode job only its steps' read-only checks, with no approval: a forged change or undo is refused", async () => {
    const stop = { become: true, operation: { op: 'service', action: 'stop', name: 'nginx' } };
    const check = { become: false, operation: { op: 'service-check', action: 'stop', name: 'nginx' } };
    const plan = {
      name: 'stop nginx',
      steps: [
        {
          id: 's',
          name: 'Stop nginx',
          targets: { targets: ['web-1'] },
          action: { method: 'ssh', ...stop },
          // Its check is the server's: derived from the catalog tool and its parameters.
          tool: { name: 'service-stop', risk: 'change', params: { service: 'nginx' }, typicalDurationSeconds: 6 },
          rollback: {
            tool: 'service-start',
            name: 'Start',
            action: { method: 'ssh', become: true, operation: { op: 'service', action: 'start', name: 'nginx' } },
          },
        },
        {
          id: 'r',
          name: 'Restart it',
          targets: { targets: ['web-1'] },
          action: { method: 'ssh', become: true, operation: { op: 'script', script: 'systemctl restart nginx' } },
        },
      ],
    };
    const job = await submit(plan, 'check');
    expect(job).toMatchObject({ approvalRequired: false, mode: 'check' });
    const stored = await stack.pool.query<{ plan: { steps: { check?: unknown }[] } }>(
      'SELECT plan FROM jobs WHERE id = $1',
      [job.id],
    );
    expect(stored.rows[0]?.plan.steps.map((s) => s.check)).toEqual([
      { kind: 'probe', action: { method: 'ssh', successExitCodes: [0], ...check } },
      undefined,
    ]);
    const on = (stepId: string, fields: Record<string, unknown>) =>
      request(job.id, { stepId, target: web[0]!, method: 'ssh', fields });
    // No approval, no person: the check runs.
    await expect(gate.admit(on('s', check))).resolves.toBeUndefined();
    // The change itself, forged into the check job by whoever reaches Temporal: refused.
    expect(await refusal(gate.admit(on('s', stop)))).toMatch(/^Forbidden: .*is not what step s of job/);
    expect(await refusal(gate.admit(on('s.rollback', stop)))).toMatch(
      /^Forbidden: .*runs in check mode: it undoes nothing/,
    );
    // A step whose effect cannot be checked runs nothing at all in check mode.
    expect(
      await refusal(
        gate.admit(on('r', { become: true, operation: { op: 'script', script: 'systemctl restart nginx' } })),
      ),
    ).toMatch(/^Forbidden: .*runs in check mode and step r has no check to run/);
    // The same plan run for real: its check is not what it runs, and its change waits for an approval.
    const real = await submit(plan);
    expect(real).toMatchObject({ approvalRequired: true, mode: 'run' });
    await waitForJob(api, operator, real.id, (j) => j.status === 'awaiting_approval');
    const onReal = (fields: Record<string, unknown>) =>
      request(real.id, { stepId: 's', target: web[0]!, method: 'ssh', fields });
    expect(await refusal(gate.admit(onReal(stop)))).toMatch(/^Forbidden: .*waits for approval/);
    expect((await control(api, approver, real.id, 'approve', { planHash: real.planHash })).status).toBe(200);
    expect(await refusal(gate.admit(onReal(check)))).toMatch(/^Forbidden: .*is not what step s of job/);
    await expect(gate.admit(onReal(stop))).resolves.toBeUndefined();
    const recorded = await stack.pool.query<{ mode: string }>(
      'SELECT mode FROM jobs WHERE id = ANY($1) ORDER BY mode',
      [[job.id, real.id]],
    );
    expect(recorded.rows.map((r) => r.mode)).toEqual(['check', 'run']);
  });

  it('refuses in a check-mode job a check that is not the read-only twin of its step: forged in the request or in the record', async () => {
    const copy = {
      become: true,
      operation: { op: 'file-restore', destination: '/opt/app/app.bin', backup: '/var/backups/opsc/app.bin' },
    };
    const own = {
      become: true,
      operation: { op: 'file-restore-check', destination: '/opt/app/app.bin', backup: '/var/backups/opsc/app.bin' },
    };
    const shadow = {
      become: true,
      operation: { op: 'file-restore-check', destination: '/opt/app/app.bin', backup: '/etc/shadow' },
    };
    const restorePlan = (check?: unknown) => ({
      name: 'restore the app',
      steps: [
        {
          id: 's',
          name: 'Restore',
          targets: { targets: ['web-2'] },
          action: { method: 'ssh', ...copy },
          tool: {
            name: 'file-restore',
            risk: 'destructive',
            params: { destination: '/opt/app/app.bin', backup: '/var/backups/opsc/app.bin' },
            typicalDurationSeconds: 3,
          },
          ...(check !== undefined && { check }),
        },
      ],
    });
    // The API takes no check from a body: a forged one is refused, naming the field, and nothing starts.
    const before = await stack.pool.query('SELECT count(*)::int AS n FROM jobs');
    const forged = await requestJson<{ error: { type: string; issues?: { path: string }[] } }>(`${api}/api/jobs`, {
      token: operator,
      body: { plan: restorePlan({ kind: 'probe', action: { method: 'ssh', ...shadow } }), mode: 'check' },
    });
    expect(forged.status).toBe(422);
    expect(forged.body.error.issues?.map((i) => i.path)).toEqual(['plan.steps.0.check']);
    expect((await stack.pool.query('SELECT count(*)::int AS n FROM jobs')).rows).toEqual(before.rows);
    const job = await submit(restorePlan(), 'check');
    const on = (fields: Record<string, unknown>) => request(job.id, { target: web[1]!, method: 'ssh', fields });
    // Whoever reaches Temporal asks for another probe under the step's id: not the step's check.
    expect(await refusal(gate.admit(on(shadow)))).toMatch(/^Forbidden: .*is not what step s of job/);
    // The record itself says another check (written by anyone but the API): no check of this step, refused.
    await stack.pool.query(`UPDATE jobs SET plan = jsonb_set(plan, '{steps,0,check}', $2::jsonb) WHERE id = $1`, [
      job.id,
      JSON.stringify({ kind: 'probe', action: { method: 'ssh', successExitCodes: [0], ...shadow } }),
    ]);
    const fresh = createJobGate(executorPool);
    expect(await refusal(fresh.admit(on(shadow)))).toMatch(/^Forbidden: .*is not a check of its own change/);
    // The check the API derived, put back: admitted.
    await stack.pool.query(`UPDATE jobs SET plan = jsonb_set(plan, '{steps,0,check}', $2::jsonb) WHERE id = $1`, [
      job.id,
      JSON.stringify({ kind: 'probe', action: { method: 'ssh', successExitCodes: [0], ...own } }),
    ]);
    await expect(createJobGate(executorPool).admit(on(own))).resolves.toBeUndefined();
  });
});
