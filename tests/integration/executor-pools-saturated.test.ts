import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executorQueue } from '@opsc/contracts';
import { eventually, requestJson, waitForJob } from '../support/api.js';
import { control, submitDraft } from '../support/rollout.js';
import { hostName, startSshHarness, type SshHarness } from '../support/ssh-harness.js';
import type { RunningOrchestrator } from '../support/stack.js';

/**
 * A pool whose only executor is busy (every activity slot taken) does not poll Temporal, so by
 * Temporal's pollers alone it reads as quiet once the freshness window has passed. The executor
 * still says it runs (docs/executor-pools.md): its running target is never shown as waiting.
 * (Found by the review of issue 20.)
 */
let h: SshHarness;
let api: RunningOrchestrator;

beforeAll(async () => {
  h = await startSshHarness('pool-saturated', { size: 1 });
  api = await h.stack.startOrchestrator({ EXECUTOR_POOL_FRESH_SECONDS: '30' });
  const group = { name: 'Busy site', targets: [hostName(h.fleet, 0)], pool: 'busy' };
  const res = await requestJson(`${api.apiUrl}/api/inventory/groups`, { token: h.admin.token, body: group });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}, 240_000);

afterAll(async () => {
  await h?.close();
});

describe('a pool whose executor is busy', () => {
  it('does not show a target its executor is running as waiting for an executor', async () => {
    const operator = await h.stack.createUser('operator');
    const approver = await h.stack.createUser('approver');
    const executor = await h.stack.startExecutor({
      EXECUTOR_POOL: 'busy',
      EXECUTOR_POOL_TENANTS: operator.tenant,
      EXECUTOR_MAX_CONCURRENT_ACTIVITIES: '1',
    });
    await eventually(
      async () => {
        const queue = await h.stack.client.workflowService.describeTaskQueue({
          namespace: h.stack.namespace,
          taskQueue: { name: executorQueue('busy', operator.tenantId), kind: 1 },
          taskQueueType: 2,
        });
        return queue.pollers?.some((p) => p.identity === `${executor.service.pid}@${hostname()}`) ? true : undefined;
      },
      30_000,
      'the executor of pool busy to poll',
    );
    const created = await submitDraft(api.apiUrl, operator.token, {
      name: 'long script',
      steps: [{ id: 'long', tool: 'run-script', params: { script: 'sleep 50' }, targets: { group: 'Busy site' } }],
    });
    expect(
      (await control(api.apiUrl, approver.token, created.id, 'approve', { planHash: created.planHash })).status,
    ).toBe(200);
    // Sample, until the job ends, what the API says and whether the executor has the action started.
    const samples: { waiting: boolean; started: boolean }[] = [];
    await eventually(
      async () => {
        const { body } = await requestJson<{ status: string; progress?: { waiting?: unknown[] } }>(
          `${api.apiUrl}/api/jobs/${created.id}`,
          { token: operator.token },
        );
        const description = await h.stack.client.workflow.getHandle(created.id).describe();
        const started = (description.raw.pendingActivities ?? []).some((a) => a.state === 2);
        samples.push({ waiting: (body.progress?.waiting?.length ?? 0) > 0, started });
        return ['completed', 'failed', 'cancelled'].includes(body.status) ? true : undefined;
      },
      200_000,
      'the job to end',
    );
    const job = await waitForJob(api.apiUrl, operator.token, created.id);
    expect(job.status).toBe('completed');
    expect(samples.some((s) => s.started)).toBe(true);
    expect(samples.filter((s) => s.waiting && s.started)).toEqual([]);
  }, 300_000);
});
