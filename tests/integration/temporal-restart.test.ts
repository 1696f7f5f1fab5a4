import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTemporalBinary, startDevServer, type DevServerOptions, type RunningDevServer } from '@opsc/temporal';
import { eventually, requestJson, waitForJob } from '../support/api.js';
import { freePort } from '../support/free-port.js';
import { slowThenEcho } from '../support/plans.js';
import { createTestStack, type RunningOrchestrator, type TestStack } from '../support/stack.js';
import { control, submitDraft } from '../support/rollout.js';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.js';

describe('the Temporal dev server keeps running workflows across a restart (same SQLite file)', () => {
  let server: RunningDevServer;
  let serverOptions: DevServerOptions;
  let stack: TestStack;
  let orchestrator: RunningOrchestrator;
  let token: string;

  beforeAll(async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'opsc-temporal-restart-'));
    serverOptions = {
      binary: ensureTemporalBinary(),
      dbFile: path.join(dir, 'temporal.db'),
      port: await freePort(),
      uiPort: null,
      namespace: 'default',
      logFile: path.join(dir, 'temporal.log'),
    };
    server = await startDevServer(serverOptions);
    stack = await createTestStack('temporal-restart', { temporalAddress: server.address });
    orchestrator = await stack.startOrchestrator();
    ({ token } = await stack.createUser('operator'));
    await stack.startExecutor();
  });

  afterAll(async () => {
    await stack?.close();
    await server?.stop();
  });

  it('finishes a job that was mid-step when the server went down', async () => {
    const plan = slowThenEcho('outlives the server', 2, 'still here');
    const { body } = await requestJson<{ id: string }>(`${orchestrator.apiUrl}/api/jobs`, { body: { plan }, token });
    await eventually(
      async () => {
        const description = await stack.client.workflow.getHandle(body.id).describe();
        return description.raw.pendingActivities?.length ? true : undefined;
      },
      30_000,
      'the slow step to be scheduled',
    );

    await server.stop();
    await new Promise((r) => setTimeout(r, 3_000));
    server = await startDevServer(serverOptions);

    // Workers and the API reconnect by themselves to the same address.
    const job = await waitForJob(orchestrator.apiUrl, token, body.id, undefined, 120_000);
    expect(job.status).toBe('completed');
    expect(job.results.map((r) => [r.stepId, r.status, r.stdout])).toEqual([
      ['slow', 'succeeded', ''],
      ['after', 'succeeded', 'still here\n'],
    ]);
  });
});

describe('a rollout over SSH outlives a Temporal restart', () => {
  let server: RunningDevServer;
  let serverOptions: DevServerOptions;
  let h: SshHarness;
  let operator: { token: string };
  let approver: { token: string };

  beforeAll(async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'opsc-temporal-restart-ssh-'));
    serverOptions = {
      binary: ensureTemporalBinary(),
      dbFile: path.join(dir, 'temporal.db'),
      port: await freePort(),
      uiPort: null,
      namespace: 'default',
      logFile: path.join(dir, 'temporal.log'),
    };
    server = await startDevServer(serverOptions);
    h = await startSshHarness('temporal-restart-ssh', {
      size: 3,
      groups: { Restart: [0, 1, 2] },
      temporalAddress: server.address,
    });
    await h.stack.startExecutor();
    operator = await h.stack.createUser('operator', { tenant: 'acme' });
    approver = await h.stack.createUser('approver', { tenant: 'acme' });
  }, 240_000);

  afterAll(async () => {
    await h?.close();
    await server?.stop();
  });

  it('finishes every target once, the change applied once per host', async () => {
    const file = '/tmp/temporal-restart';
    const created = await submitDraft(h.orchestrator.apiUrl, operator.token, {
      name: 'append across a restart',
      steps: [
        {
          id: 'append',
          tool: 'run-script',
          params: { script: `echo applied >> ${file}; sleep 3` },
          targets: { group: 'Restart' },
        },
        {
          id: 'read-back',
          tool: 'run-command',
          params: { program: 'cat', args: [file] },
          targets: { group: 'Restart' },
        },
      ],
      policies: { maxParallel: 3 },
    });
    await control(h.orchestrator.apiUrl, approver.token, created.id, 'approve', { planHash: created.planHash });
    await eventually(
      async () => {
        const lines = await Promise.all(
          h.fleet.hosts.map(async (_, i) => (await h.fleet.exec(i, `cat ${file} 2>/dev/null`)).stdout),
        );
        return lines.every((l) => l === 'applied\n') ? true : undefined;
      },
      60_000,
      'the change to land on every host',
    );

    await server.stop();
    await new Promise((r) => setTimeout(r, 3_000));
    server = await startDevServer(serverOptions);

    const job = await waitForJob(h.orchestrator.apiUrl, operator.token, created.id, undefined, 120_000);
    expect(job.status).toBe('completed');
    expect(job.progress!.matrix).toEqual(['SSS', 'SSS']);
    for (const i of h.fleet.hosts.keys()) expect((await h.fleet.exec(i, `cat ${file}`)).stdout).toBe('applied\n');
  }, 200_000);
});
