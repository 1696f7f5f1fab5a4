import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTemporalBinary, startDevServer, type DevServerOptions, type RunningDevServer } from '@opsc/temporal';
import { eventually, requestJson, waitForJob } from '../support/api.js';
import { freePort } from '../support/free-port.js';
import { slowThenEcho } from '../support/plans.js';
import { createTestStack, type RunningOrchestrator, type TestStack } from '../support/stack.js';

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
    await eventually(async () => {
      const description = await stack.client.workflow.getHandle(body.id).describe();
      return description.raw.pendingActivities?.length ? true : undefined;
    }, 30_000, 'the slow step to be scheduled');

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
