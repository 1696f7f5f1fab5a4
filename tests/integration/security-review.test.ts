import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  TaskQueue,
  addressVerdict,
  egressRules,
  type ConfirmDecisionInput,
  type ConfirmDecisionResult,
} from '@opsc/contracts';
import { REPO_ROOT, platformEgressDeny } from '@opsc/dev';
import { ensureTemporalBinary, startDevServer } from '@opsc/temporal';
import { allowEgress, requestJson, waitForJob } from '../support/api.js';
import { freePort } from '../support/free-port.js';
import { listenersOf } from '../support/listeners.js';
import { reserveWebPort, startTestWeb } from '../support/web.js';
import type { Created } from '../support/rollout.js';
import { createTestStack, type TestStack } from '../support/stack.js';
import { recorder } from '../support/recorder.js';

// A review of issue 15's gates as a whole, by an ordinary operator of one tenant and by someone who
// reaches the host's loopback services (Temporal among them) but none of the platform's secrets.

type User = { token: string; username: string; tenantId: string };
type Answer = Created & { error?: { type: string; issues?: { path: string; message: string }[] } };

describe('security review of the gates', () => {
  let stack: TestStack;
  let apiUrl: string;
  let operator: User;
  let admin: User;
  let listener: Awaited<ReturnType<typeof recorder>>;

  beforeAll(async () => {
    stack = await createTestStack('security-review');
    ({ apiUrl } = await stack.startOrchestrator());
    await stack.startExecutor();
    operator = await stack.createUser('operator', { username: 'olga-operator' });
    admin = await stack.createUser('admin', { username: 'ada-admin' });
    listener = await recorder();
    await allowEgress(apiUrl, admin.token, [listener.host]);
    // Two Windows targets with a WinRM service and a credential; nothing listens, no job here reaches them.
    const cred = await stack.pool.query<{ id: string }>(
      `INSERT INTO credentials (tenant_id, name, kind, username, fingerprint) VALUES ($1, 'win-admin', 'winrm', 'Administrator', 'sha256:test') RETURNING id`,
      [operator.tenantId],
    );
    for (const name of ['cis-1', 'cis-2']) {
      const t = await stack.pool.query<{ id: string }>(
        `INSERT INTO targets (tenant_id, name, address, os) VALUES ($1, $2, '127.0.0.9', 'windows') RETURNING id`,
        [operator.tenantId, name],
      );
      await stack.pool.query(
        `INSERT INTO target_services (target_id, protocol, port, options, credential_id) VALUES ($1, 'winrm', 5985, '{"scheme":"http","transport":"ntlm"}', $2)`,
        [t.rows[0]!.id, cred.rows[0]!.id],
      );
    }
  }, 240_000);

  afterAll(async () => {
    listener?.server.close();
    await stack?.close();
  });

  const submit = (plan: unknown, token = operator.token) =>
    requestJson<Answer>(`${apiUrl}/api/jobs`, { token, body: { plan } });
  const awaitingApproval = async (plan: unknown): Promise<Created> => {
    const created = await submit(plan);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await waitForJob(apiUrl, operator.token, created.body.id, (j) => j.status === 'awaiting_approval', 30_000);
    return created.body;
  };

  describe("a raw plan's undo action (it runs on the targets during compensation)", () => {
    const copy = {
      method: 'winrm',
      operation: { op: 'powershell', script: "Copy-Item C:\\staging\\app.exe 'C:\\Program Files\\App\\app.exe'" },
    };
    const step = (rollback: unknown) => ({
      id: 'copy',
      name: 'Copy the new exe',
      targets: { targets: ['cis-1', 'cis-2'] },
      action: copy,
      rollback,
    });

    it("must name a tool of the catalog, as a step's tool must", async () => {
      const created = await submit({
        name: 'copy',
        steps: [
          step({
            tool: 'totally-safe-undo',
            name: 'Restore the previous exe',
            action: { method: 'winrm', operation: { op: 'powershell', script: 'Write-Output restored' } },
          }),
        ],
        policies: { rollback: 'target' },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(422);
      expect(created.body.error?.issues?.map((i) => i.path)).toContain('plan.steps.0.rollback.tool');
    });

    it('is held to the same content checks as the step: an undo that wipes the drive makes the plan destructive', async () => {
      const wipe = { method: 'winrm', operation: { op: 'powershell', script: 'Remove-Item -Recurse -Force C:\\' } };
      const created = await submit({
        name: 'copy with a quiet undo',
        steps: [step({ tool: 'file-restore', name: 'Restore the previous exe', action: wipe })],
        policies: { rollback: 'target' },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      // Today: `change`, and nothing tells the approver that the "restore" wipes C:\ on every target.
      expect(created.body).toMatchObject({ risk: 'destructive', approvalRequired: true });
    });
  });

  describe('someone who reaches Temporal (loopback in the embedded mode) but holds no secret', () => {
    it('cannot approve a job by answering its confirmDecision activity from a worker of their own', async () => {
      const job = await awaitingApproval({
        name: 'needs a person',
        steps: [{ id: 'hello', name: 'hello', action: { method: 'local-command', command: 'echo', args: ['hello'] } }],
        policies: { approvalRequired: true },
      });
      // A worker on the orchestrator queue that answers only confirmDecision, and answers "confirmed".
      const connection = await NativeConnection.connect({ address: inject('temporalAddress') });
      const forged = (input: ConfirmDecisionInput): ConfirmDecisionResult => ({
        confirmed: true,
        decision: {
          id: input.decisionId,
          jobId: job.id,
          tenantId: operator.tenantId,
          action: 'approve',
          by: 'mallory',
          role: 'admin',
          planHash: job.planHash,
          comment: null,
          mode: null,
          choice: null,
          sourceIp: null,
          at: new Date().toISOString(),
        },
      });
      const worker = await Worker.create({
        connection,
        namespace: stack.namespace,
        taskQueue: TaskQueue.orchestrator,
        activities: { confirmDecision: async (input: ConfirmDecisionInput) => forged(input) },
        maxConcurrentActivityTaskPolls: 8,
      });
      const running = worker.run();
      let accepted = 0;
      const refusals = new Set<string>();
      try {
        // Activity tasks go to whichever worker polls: sooner or later the attacker's gets one.
        for (let i = 0; i < 60 && accepted === 0; i++) {
          try {
            await stack.client.workflow
              .getHandle(job.id)
              .executeUpdate('approve', { args: [{ decisionId: randomUUID() }] });
            accepted += 1;
          } catch (err) {
            if (!(err instanceof WorkflowUpdateFailedError)) throw err;
            refusals.add(String((err.cause as Error | undefined)?.message ?? err.message).slice(0, 120));
          }
        }
      } finally {
        worker.shutdown();
        await running;
        await connection.close();
      }
      expect(refusals.size, [...refusals].join(' | ')).toBeGreaterThan(0);
      expect(accepted, 'a forged approval was taken').toBe(0);
      const after = await waitForJob(apiUrl, operator.token, job.id, () => true);
      expect(after.status).toBe('awaiting_approval');
      expect(after.approval).toBeNull();
    });

    /**
     * Runs one of the attacker's own workflows (on a task queue of their own) to its end: `mallory`
     * asks the executor queue for an http request, `forger` asks the orchestrator queue to record
     * a job event. Neither is a job's workflow.
     */
    const rogue = async <T>(workflow: 'mallory' | 'forger', input: Record<string, unknown>): Promise<T> => {
      await mkdir(path.join(REPO_ROOT, '.cache'), { recursive: true });
      const dir = await mkdtemp(path.join(REPO_ROOT, '.cache', 'rogue-workflow-'));
      const file = path.join(dir, 'rogue.js');
      await writeFile(
        file,
        `import { proxyActivities } from '@temporalio/workflow';
const once = (taskQueue) => proxyActivities({ taskQueue, startToCloseTimeout: '30s', retry: { maximumAttempts: 1 } });
const outcome = async (work) => {
  try {
    return { ran: true, output: await work() };
  } catch (err) {
    return { ran: false, message: String((err && err.cause && err.cause.message) || err) };
  }
};
export const mallory = (input) => outcome(() => once('executor').sendHttpRequest(input));
export const forger = (input) => outcome(() => once('orchestrator').recordJobEvent(input));
`,
      );
      const connection = await NativeConnection.connect({ address: inject('temporalAddress') });
      const queue = `mallory-${randomUUID()}`;
      const worker = await Worker.create({
        connection,
        namespace: stack.namespace,
        taskQueue: queue,
        workflowsPath: file,
      });
      const running = worker.run();
      try {
        return await stack.client.workflow.execute<(input: Record<string, unknown>) => Promise<T>>(workflow, {
          taskQueue: queue,
          workflowId: `mallory-${randomUUID()}`,
          args: [input],
        });
      } finally {
        worker.shutdown();
        await running;
        await connection.close();
      }
    };

    it('cannot make the executor send a change nobody approved, from a workflow of their own', async () => {
      const url = `http://${listener.host}/unapproved-${randomUUID()}`;
      const job = await awaitingApproval({
        name: 'post it',
        steps: [{ id: 'post', name: 'POST', action: { method: 'http', url, httpMethod: 'POST', body: 'x' } }],
      });
      const result = await rogue<{ ran: boolean; message?: string }>('mallory', {
        jobId: job.id,
        tenantId: operator.tenantId,
        stepId: 'post',
        target: { id: 'executor', name: 'executor' },
        timeoutSeconds: 10,
        url,
        httpMethod: 'POST',
        headers: {},
        body: 'x',
      });
      expect(
        listener.hits.filter((h) => h.startsWith('POST /unapproved')),
        JSON.stringify(result),
      ).toEqual([]);
      expect(result.ran).toBe(false);
      expect((await waitForJob(apiUrl, operator.token, job.id, () => true)).status).toBe('awaiting_approval');
    });

    it("cannot write a job's record or audit trail from a workflow of their own", async () => {
      const job = await awaitingApproval({
        name: 'needs a person too',
        steps: [{ id: 'hello', name: 'hello', action: { method: 'local-command', command: 'echo', args: ['hello'] } }],
        policies: { approvalRequired: true },
      });
      const result = await rogue<{ ran: boolean; message?: string }>('forger', {
        jobId: job.id,
        key: `approve-${randomUUID()}`,
        action: 'approve',
        actor: 'the-ceo',
        at: new Date().toISOString(),
        planHash: job.planHash,
        comment: 'looks fine',
      });
      expect(result.ran, JSON.stringify(result)).toBe(false);
      const after = await waitForJob(apiUrl, operator.token, job.id, () => true);
      expect(after.approval).toBeNull();
      expect(after.events).toEqual([]);
      const audit = await stack.pool.query(`SELECT actor FROM audit_log WHERE job_id = $1 AND action = 'job.approve'`, [
        job.id,
      ]);
      expect(audit.rows).toEqual([]);
    });
  });

  describe("a tenant admin's allow list", () => {
    it("cannot reach the embedded Temporal's HTTP API from an http step, even with a tenant admin allowing its port", async () => {
      // As `npm run up` starts it: its own dev server with a UI, and the executor's deny list from it.
      const dir = await mkdtemp(path.join(os.tmpdir(), 'opsc-review-temporal-'));
      const server = await startDevServer({
        binary: ensureTemporalBinary(),
        dbFile: path.join(dir, 'temporal.db'),
        port: await freePort(),
        uiPort: await freePort(),
        namespace: 'default',
        logFile: path.join(dir, 'temporal.log'),
      });
      try {
        // The executor adds its own TEMPORAL_ADDRESS to what it is told.
        const platform = egressRules([
          ...platformEgressDeny({ apiPort: await freePort(), webPort: await freePort(), temporal: server }).split(','),
          server.address,
        ]);
        // Every port of the dev server that answers Temporal's HTTP API in plain HTTP: every workflow
        // of every tenant, their histories, terminate, signal, update.
        const httpApis: number[] = [];
        const deadline = Date.now() + 30_000;
        while (httpApis.length === 0 && Date.now() < deadline) {
          httpApis.length = 0;
          for (const { port } of listenersOf(server.pid)) {
            const res = await fetch(`http://127.0.0.1:${port}/api/v1/namespaces`, {
              signal: AbortSignal.timeout(2_000),
            }).catch(() => null);
            const body = res?.ok ? await res.text() : '';
            if (body.includes('"namespaceInfo"')) httpApis.push(port);
          }
          if (httpApis.length === 0) await new Promise((r) => setTimeout(r, 500));
        }
        expect(httpApis.length).toBeGreaterThan(0);
        for (const port of httpApis) {
          const verdict = addressVerdict(
            { host: '127.0.0.1', address: '127.0.0.1', port },
            { allow: egressRules([`127.0.0.1:${port}`]), platform },
          );
          expect(verdict.allowed, `127.0.0.1:${port} serves Temporal's HTTP API`).toBe(false);
        }
      } finally {
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('sign-in through the web app', () => {
    /** POST /api/auth/login through the web server, from one loopback address of the client's choosing. */
    const signInFrom = (localAddress: string, webUrl: string, body: Record<string, string>): Promise<number> =>
      new Promise((resolve, reject) => {
        const url = new URL('/api/auth/login', webUrl);
        const req = http.request(
          url,
          { method: 'POST', localAddress, headers: { 'content-type': 'application/json', origin: url.origin } },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end(JSON.stringify(body));
      });

    it("is not refused to everyone once one client has failed the source's budget", async () => {
      const web = await reserveWebPort();
      const api = await stack.startOrchestrator(web.orchestratorEnv);
      const running = await startTestWeb(stack.namespace, api.apiUrl, web.port);
      const victim = await stack.createUser('operator', { username: 'vera-victim', password: 'a long right password' });
      try {
        // Someone at 127.0.0.2 guesses names and passwords until the API refuses the source.
        let refused = 0;
        for (let i = 0; i < 25; i++) {
          const status = await signInFrom('127.0.0.2', running.url, {
            tenant: 'acme',
            username: `guess-${i}`,
            password: 'wrong',
          });
          if (status === 429) refused += 1;
        }
        expect(refused).toBeGreaterThan(0);
        // Someone else, at 127.0.0.3, with the right password: today the web server is everyone's source.
        expect(
          await signInFrom('127.0.0.3', running.url, {
            tenant: victim.tenant,
            username: victim.username,
            password: 'a long right password',
          }),
        ).toBe(200);
      } finally {
        await running.service.stop();
        await api.service.stop();
      }
    });
  });

  describe('times in queries', () => {
    it('answers 200 or 400 naming the field, never 500, to times PostgreSQL cannot take', async () => {
      const odd = [
        '0000-01-01T00:00:00Z',
        '2024-01-01T00:00:00+23:59',
        '9999-12-31T23:59:59-23:59',
        '2024-01-01T00:00:00.123456789Z',
      ];
      const wrong: string[] = [];
      for (const value of odd) {
        for (const query of [`audit?since=`, `audit?until=`, `jobs?since=`, `jobs?until=`, `jobs?before=`]) {
          const res = await requestJson<{ error?: { issues?: { path: string }[] } }>(
            `${apiUrl}/api/${query}${encodeURIComponent(value)}`,
            { token: admin.token },
          );
          if (res.status !== 200 && !(res.status === 400 && res.body.error?.issues?.length))
            wrong.push(`${query}${value}: ${res.status}`);
        }
      }
      expect(wrong).toEqual([]);
    });
  });
});
