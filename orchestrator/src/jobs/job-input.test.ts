import { describe, expect, it } from 'vitest';
import { Plan, TaskQueue } from '@opsc/contracts';
import { SearchAttribute } from '@opsc/contracts/temporal';
import { Conflict } from '../errors.js';
import { approvalPolicy, checkExpectedHash, mainGroup, runJobInput, startOptions } from './job-input.js';
import type { ReadyPlan } from './ready-plan.js';

const plan = Plan.parse({
  name: 'restart web',
  steps: [
    { id: 'local', name: 'Note', action: { method: 'local-command', command: 'echo', args: ['start'] } },
    {
      id: 'stop',
      name: 'Stop',
      targets: { group: 'Production Web' },
      action: { method: 'ssh', operation: { op: 'service', action: 'stop', name: 'nginx' } },
    },
    {
      id: 'db',
      name: 'Check',
      targets: { group: 'Databases' },
      action: { method: 'ssh', operation: { op: 'service', action: 'status', name: 'postgresql' } },
    },
  ],
});
const ready = (over: Partial<ReadyPlan> = {}): ReadyPlan => ({
  plan,
  summary: null,
  request: null,
  risk: 'change',
  approvalRequired: true,
  approvalReasons: ['step "stop" is change'],
  ...over,
});
const strict = { fourEyes: true, approvalTimeoutSeconds: 3_600 };
const job = {
  id: 'job-1',
  tenantId: 't-1',
  planHash: 'a'.repeat(64),
  requestedBy: 'olga',
  targets: { targets: [{ id: 'x', name: 'web-1' }], stepTargets: { stop: [0], db: [0] } },
  targetGroup: 'Production Web',
  mode: 'run' as const,
};

describe('the approval policy a job starts with', () => {
  it("takes whether and why from the server's verdict, four eyes and the timeout from the tenant", () => {
    expect(approvalPolicy(ready(), strict)).toEqual({
      required: true,
      reasons: ['step "stop" is change'],
      fourEyes: true,
      timeoutSeconds: 3_600,
    });
  });

  it('needs no approval for a plan that only reads, whatever the tenant settings', () => {
    expect(
      approvalPolicy(ready({ risk: 'read', approvalRequired: false, approvalReasons: [] }), {
        fourEyes: false,
        approvalTimeoutSeconds: 60,
      }),
    ).toEqual({
      required: false,
      reasons: [],
      fourEyes: false,
      timeoutSeconds: 60,
    });
  });

  it('goes into the workflow input beside the plan, its verdict and the resolved targets', () => {
    const input = runJobInput(job, ready(), strict, { heartbeatTimeoutSeconds: 30, historyEventLimit: 10_000 });
    expect(input).toEqual({
      jobId: 'job-1',
      tenantId: 't-1',
      plan,
      planHash: 'a'.repeat(64),
      risk: 'change',
      targetGroup: 'Production Web',
      targets: job.targets.targets,
      stepTargets: job.targets.stepTargets,
      requestedBy: 'olga',
      approval: { required: true, reasons: ['step "stop" is change'], fourEyes: true, timeoutSeconds: 3_600 },
      options: { heartbeatTimeoutSeconds: 30, historyEventLimit: 10_000 },
    });
  });
});

describe('submission checks and the workflow start', () => {
  it('refuses a plan that is no longer the one the caller reviewed, naming both hashes', () => {
    const shown = 'b'.repeat(64);
    const now = 'c'.repeat(64);
    expect(() => checkExpectedHash(shown, now)).toThrow(Conflict);
    expect(() => checkExpectedHash(shown, now)).toThrow(
      `the plan is no longer the one shown (hash ${'b'.repeat(12)}…, now ${'c'.repeat(12)}…): the inventory or catalog changed; review it again`,
    );
    expect(() => checkExpectedHash(now, now)).not.toThrow();
    expect(() => checkExpectedHash(undefined, now)).not.toThrow();
  });

  it('files the job under the group its first grouped step acts on, or none', () => {
    expect(mainGroup(plan)).toBe('Production Web');
    expect(mainGroup({ ...plan, steps: plan.steps.slice(0, 1) })).toBeNull();
  });

  it('starts the workflow on the orchestrator queue under the job id, searchable by its facts', () => {
    const input = runJobInput(job, ready(), strict, { heartbeatTimeoutSeconds: 30, historyEventLimit: 10_000 });
    const origin = { kind: 'schedule', scheduleId: 'nightly', templateId: 'tpl-1', version: 3 } as const;
    const options = startOptions(input, { bullets: ['stops nginx'] } as ReadyPlan['summary'], origin);
    expect(options).toMatchObject({ workflowId: 'job-1', taskQueue: TaskQueue.orchestrator, args: [input] });
    expect(options.typedSearchAttributes).toEqual([
      { key: SearchAttribute.jobId, value: 'job-1' },
      { key: SearchAttribute.tenant, value: 't-1' },
      { key: SearchAttribute.requester, value: 'olga' },
      { key: SearchAttribute.risk, value: 'change' },
      { key: SearchAttribute.status, value: 'queued' },
      { key: SearchAttribute.origin, value: 'schedule:nightly' },
      { key: SearchAttribute.mode, value: 'run' },
      { key: SearchAttribute.targetGroup, value: 'Production Web' },
    ]);
    expect(options.memo).toEqual({
      name: 'restart web',
      planHash: 'a'.repeat(64),
      risk: 'change',
      approvalRequired: true,
      origin,
      mode: 'run',
      steps: ['Note', 'Stop', 'Check'],
      targets: 1,
      summary: ['stops nginx'],
    });
    const check = runJobInput({ ...job, mode: 'check' }, ready(), strict, {
      heartbeatTimeoutSeconds: 30,
      historyEventLimit: 10_000,
    });
    // A check needs no approval whatever the plan; its mode is searchable and in the memo.
    expect(check).toMatchObject({ mode: 'check', approval: { required: false, reasons: [] } });
    expect(input.mode).toBeUndefined();
    const checkOptions = startOptions(check, null);
    expect(checkOptions.typedSearchAttributes).toContainEqual({ key: SearchAttribute.mode, value: 'check' });
    expect(checkOptions.memo).toMatchObject({ mode: 'check' });
    const ungrouped = startOptions({ ...input, targetGroup: null }, null);
    expect(ungrouped.typedSearchAttributes).not.toContainEqual(
      expect.objectContaining({ key: SearchAttribute.targetGroup }),
    );
    expect(ungrouped.memo).not.toHaveProperty('summary');
    expect(ungrouped.typedSearchAttributes).toContainEqual({ key: SearchAttribute.origin, value: 'manual' });
  });
});
