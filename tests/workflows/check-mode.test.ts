import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import type { PlanInput } from '@opsc/contracts';
import { progressQuery } from '@opsc/contracts/temporal';
import { commandOutput } from './support/fakes.js';
import { WorkflowEnv } from './support/env.js';

// A check-mode job: the real workflow against a fake executor that answers the check operations.
let wf: WorkflowEnv;
beforeAll(async () => {
  wf = await WorkflowEnv.start();
});
afterAll(async () => {
  await wf?.stop();
});

const plan: PlanInput = {
  name: 'stop, script, look',
  steps: [
    {
      id: 'stop',
      name: 'Stop nginx',
      targets: { group: 'web' },
      action: { method: 'ssh', become: true, operation: { op: 'service', action: 'stop', name: 'nginx' } },
      check: {
        kind: 'probe',
        action: { method: 'ssh', operation: { op: 'service-check', action: 'stop', name: 'nginx' } },
      },
      rollback: {
        tool: 'service-start',
        name: 'Start',
        action: { method: 'ssh', become: true, operation: { op: 'service', action: 'start', name: 'nginx' } },
      },
    },
    {
      id: 'script',
      name: 'A script',
      targets: { group: 'web' },
      action: { method: 'ssh', operation: { op: 'script', script: 'make it so' } },
      check: { kind: 'would-run', reason: 'what a script changes cannot be known before it runs' },
    },
    {
      id: 'copy',
      name: 'Copy',
      targets: { group: 'web' },
      action: { method: 'ssh', operation: { op: 'file-copy', source: 'a', destination: '/opt/a' } },
      check: {
        kind: 'probe',
        action: { method: 'ssh', operation: { op: 'file-check', source: 'a', destination: '/opt/a' } },
      },
    },
    {
      id: 'look',
      name: 'Look',
      targets: { group: 'web' },
      action: { method: 'ssh', operation: { op: 'disk-usage', path: '/' } },
    },
  ],
  policies: { approvalRequired: true, rollback: 'all', continueOnFailure: false },
};

describe('a check-mode job', () => {
  it("runs each step's check instead of its change, with no approval, and reports would change / no change / would run per target", async () => {
    const ops: string[] = [];
    const job = await wf.startJob({
      plan,
      mode: 'check',
      targets: ['web-1', 'web-2'],
      script: async ({ stepId, target }, input) => {
        ops.push(`${stepId}@${target}:${input.operation.op}`);
        if (stepId === 'copy' && target === 'web-2')
          throw ApplicationFailure.nonRetryable('no such host', 'HostUnreachable');
        const facts: Record<string, string> =
          stepId === 'stop'
            ? {
                state: target === 'web-1' ? 'active' : 'inactive',
                wanted: 'inactive',
                would_change: target === 'web-1' ? 'yes' : 'no',
              }
            : { would_change: 'yes', target_sha256: 'a'.repeat(64), artifact_sha256: 'b'.repeat(64) };
        return { ...commandOutput(0), facts };
      },
    });
    const result = await job.result();
    // A check that failed (web-2 unreachable) fails the job, but stops nothing and undoes nothing.
    expect(result).toMatchObject({ status: 'failed', targets: { rolledBack: 0 }, compensationFailures: 0 });
    expect(ops.sort()).toEqual([
      'copy@web-1:file-check',
      'copy@web-2:file-check',
      'stop@web-1:service-check',
      'stop@web-2:service-check',
    ]);
    const progress = await job.handle.query(progressQuery);
    expect(progress.mode).toBe('check');
    expect(progress.approval.status).toBe('not_required');
    // web-2's failed check leaves it out of the later steps, as a failed step would.
    expect(progress.checks).toEqual(['CN', 'UU', 'C ', 'N ']);
    expect(progress.matrix).toEqual(['SS', 'SS', 'SF', 'S-']);
    const logs = progress.logs.map((l) => `${l.stepId}@${l.target}: ${l.message}`);
    expect(logs).toContain('stop@web-1: would change: state active vs inactive');
    expect(logs).toContain('stop@web-2: no change: state inactive vs inactive');
    expect(logs).toContain('script@web-1: would run: what a script changes cannot be known before it runs');
    expect(logs).toContain('copy@web-1: would change: sha256 on target aaaaaaaaaaaa vs bbbbbbbbbbbb');
    expect(logs).toContain('look@web-1: no change: the step only reads (not run in check mode)');
    expect(job.records.verdicts.every((v) => v.toolKey?.startsWith('check:'))).toBe(true);
    const markers = ((await job.handle.fetchHistory()).events ?? []).filter(
      (e) => e.markerRecordedEventAttributes?.markerName === 'core_patch',
    );
    // The check-mode patch, beside any other this run took (the notifications' one).
    const patchIds = markers.map((m) => {
      const data: unknown = m.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data;
      const bytes = typeof data === 'string' ? Buffer.from(data, 'base64') : Buffer.from((data as Uint8Array) ?? []);
      return (JSON.parse(bytes.toString('utf8')) as { id: string }).id;
    });
    expect(patchIds.filter((id) => id === 'check-mode')).toHaveLength(1);
  });

  it('is not what a job without the mode runs: that one waits for its approval', async () => {
    const job = await wf.startJob({ plan, approval: { required: true }, targets: ['web-1'] });
    await expect
      .poll(async () => (await job.handle.query(progressQuery)).status, { timeout: 10_000, interval: 200 })
      .toBe('awaiting_approval');
    const progress = await job.handle.query(progressQuery);
    expect(progress.mode).toBeUndefined();
    expect(progress.checks).toBeUndefined();
    expect(job.records.calls).toEqual([]);
    await job.handle.terminate('done looking');
  });
});
