import { describe, expect, it } from 'vitest';
import { Cell, EXECUTOR_TARGET, Plan, type JobResume } from '@opsc/contracts';
import { JobState } from './job-state.js';
import { carriedUndo } from './saga.js';

const service = (action: 'stop' | 'start') => ({
  method: 'ssh',
  operation: { op: 'service', action, name: 'nginx' },
});
const plan = Plan.parse({
  name: 'stop, check, start',
  steps: [
    {
      id: 'stop',
      name: 'Stop',
      targets: { group: 'g' },
      action: service('stop'),
      rollback: { tool: 'service-start', name: 'Start', action: service('start') },
    },
    {
      id: 'notify',
      name: 'Notify',
      action: { method: 'http', url: 'https://hooks.example.com/x', httpMethod: 'POST' },
      rollback: {
        tool: 'http-request',
        name: 'Notify undo',
        action: { method: 'http', url: 'https://hooks.example.com/undo', httpMethod: 'POST' },
      },
    },
    {
      id: 'check',
      name: 'Check',
      targets: { group: 'g' },
      action: { method: 'ssh', operation: { op: 'run', argv: ['true'] } },
    },
  ],
});
const targets = [{ id: 't-a', name: 'a' }, { id: 't-b', name: 'b' }, { id: 't-c', name: 'c' }, EXECUTOR_TARGET];
const resume: JobResume = {
  retryOf: 'job-1',
  rootJobId: 'job-0',
  targets: {
    // Stopped in job-1 (the service manager reported: it did stop it).
    't-a': { start: 2, done: { stop: { jobId: 'job-1', facts: { manager: 'systemd' } } } },
    // Its stop reported nothing: it changed nothing, so nothing to undo.
    't-b': { start: 1, done: { stop: { jobId: 'job-1', facts: {} } } },
    't-c': { start: 0, done: {} },
    // The executor's HTTP call was made in job-0: its undo needs no facts.
    [EXECUTOR_TARGET.id]: { start: 3, done: { notify: { jobId: 'job-0', facts: null } } },
  },
};

describe("a retry job's start", () => {
  it('undoes what a target carries with the facts recorded for it, oldest first, and nothing it did not change', () => {
    const stacks = carriedUndo(plan, resume, targets);
    expect(Object.keys(stacks)).toEqual(['0', '3']);
    expect(stacks[0]!.map((e) => [e.step, e.action?.method])).toEqual([[0, 'ssh']]);
    expect(stacks[3]!.map((e) => [e.step, e.action?.method])).toEqual([[1, 'http']]);
    expect(stacks[0]![0]!.action).toMatchObject({ operation: { op: 'service', action: 'start', name: 'nginx' } });
  });

  it('shows carried steps done, never runs them, and counts them per step', () => {
    const state = new JobState(
      'job-2',
      plan,
      targets.map((t) => t.name),
      [[0, 1, 2], [3], [0, 1, 2]],
      3,
      {
        approval: {
          required: false,
          status: 'not_required',
          planHash: 'h',
          requestedBy: 'r',
          fourEyes: true,
          deadline: null,
        },
        now: new Date(0),
        starts: [2, 1, 0, 3],
      },
      { jobId: 'job-1', rootJobId: 'job-0' },
    );
    expect(state.handOver().cells).toEqual(['DD. ', '   D', '... ']);
    expect(state.pendingTargets(0)).toEqual([2]);
    expect(state.pendingTargets(1)).toEqual([]);
    expect(state.pendingTargets(2)).toEqual([0, 1, 2]);
    const snapshot = state.snapshot(new Date(0));
    expect(snapshot.steps.map((s) => s.targets.doneBefore)).toEqual([2, 1, 0]);
    expect(snapshot.retryOf).toEqual({ jobId: 'job-1', rootJobId: 'job-0' });
    // A carried step undone in this job shows rolled back.
    state.recordUndone(0, 0, true, null, new Date(0));
    expect(state.cell(0, 0)).toBe(Cell.rolledBack);
  });
});
