import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import type { PlanInput } from '@opsc/contracts';
import { WorkflowEnv, type TestJob } from './support/env.js';
import { commandOutput } from './support/fakes.js';

// A reboot or shutdown step runs once, whatever the plan's attempts say: a retry could reboot the
// host again. The real workflow against a fake executor that fails the first attempt retryably.
let wf: WorkflowEnv;
beforeAll(async () => {
  wf = await WorkflowEnv.start();
});
afterAll(async () => {
  await wf?.stop();
});

const plan: PlanInput = {
  name: 'a change, then a reboot',
  steps: [
    {
      id: 'before',
      name: 'A change',
      targets: { group: 'web' },
      action: { method: 'ssh', operation: { op: 'run', argv: ['change'] } },
    },
    {
      id: 'reboot',
      name: 'Reboot',
      targets: { group: 'web' },
      timeoutSeconds: 700,
      maxAttempts: 3,
      action: { method: 'ssh', operation: { op: 'reboot', timeoutSeconds: 600 } },
    },
  ],
  policies: { maxAttempts: 3 },
};

const scheduledAttempts = async (job: TestJob): Promise<[string, number][]> =>
  ((await job.handle.fetchHistory()).events ?? [])
    .map((e) => e.activityTaskScheduledEventAttributes)
    .filter((a) => a?.activityType?.name === 'runSshOperation')
    .map((a) => [
      String(
        (a!.input?.payloads?.[0]?.data && JSON.parse(Buffer.from(a!.input.payloads[0].data).toString()).stepId) ?? '',
      ),
      a!.retryPolicy?.maximumAttempts ?? 0,
    ]);

describe('a power step', () => {
  it('is scheduled with one attempt: a retryable failure of it is final, while other steps are retried', async () => {
    const job = await wf.startJob({
      plan,
      script: async ({ attempt }) => {
        if (attempt === 1) throw ApplicationFailure.retryable('the connection dropped', 'ConnectionLost');
        return commandOutput(0);
      },
    });
    const result = await job.result();
    expect(result).toMatchObject({ status: 'failed' });
    expect(job.records.calls).toEqual(['before@web-1', 'before@web-1', 'reboot@web-1']);
    expect(await scheduledAttempts(job)).toEqual([
      ['before', 3],
      ['reboot', 1],
    ]);
    expect(job.records.verdicts.map((v) => [v.stepId, v.status])).toEqual([
      ['before', 'succeeded'],
      ['reboot', 'failed'],
    ]);
  });
});
