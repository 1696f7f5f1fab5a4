import { describe, expect, it } from 'vitest';
import { EXECUTOR_TARGET, Plan } from '@opsc/contracts';
import { planRetry, type RecordedResult, type RetrySource } from './retry-plan.js';

const ssh = (action: 'stop' | 'start') => ({
  method: 'ssh',
  operation: { op: 'service', action, name: 'nginx' },
});
const plan = Plan.parse({
  name: 'stop, change, start',
  steps: [
    { id: 'stop', name: 'Stop', targets: { group: 'Web' }, action: ssh('stop') },
    { id: 'change', name: 'Change', targets: { group: 'Web' }, action: ssh('stop') },
    { id: 'start', name: 'Start', targets: { group: 'Web' }, action: ssh('start') },
  ],
});
const hosts = ['a', 'b', 'c', 'd'].map((n) => ({ id: `t-${n}`, name: n }));
const everyStep = { stop: [0, 1, 2, 3], change: [0, 1, 2, 3], start: [0, 1, 2, 3] };
const ok = (stepId: string, host: string, facts: Record<string, string> | null = null): RecordedResult => ({
  stepId,
  targetId: `t-${host}`,
  status: 'succeeded',
  facts,
});
const failed = (stepId: string, host: string): RecordedResult => ({ ...ok(stepId, host), status: 'failed' });
const source = (results: RecordedResult[], over: Partial<RetrySource> = {}): RetrySource => ({
  id: 'job-1',
  plan,
  targets: { targets: hosts, stepTargets: everyStep },
  resume: null,
  rootJobId: null,
  results,
  ...over,
});
const stopped = { manager: 'systemd', before: 'active' };
// a: done; b: failed at change; c: skipped after stop; d: never ran.
const first = [
  ok('stop', 'a'),
  ok('change', 'a'),
  ok('start', 'a'),
  ok('stop', 'b', stopped),
  failed('change', 'b'),
  ok('stop', 'c', stopped),
];

describe('planRetry', () => {
  it('takes the targets that did not get through, each from the first step that does not stand', () => {
    const retry = planRetry(source(first))!;
    expect(retry.targets.targets.map((t) => t.name)).toEqual(['b', 'c', 'd']);
    // Reindexed onto the retry's own targets.
    expect(retry.targets.stepTargets).toEqual({ stop: [0, 1, 2], change: [0, 1, 2], start: [0, 1, 2] });
    expect(retry.resume).toEqual({
      retryOf: 'job-1',
      rootJobId: 'job-1',
      targets: {
        't-b': { start: 1, done: { stop: { jobId: 'job-1', facts: stopped } } },
        't-c': { start: 1, done: { stop: { jobId: 'job-1', facts: stopped } } },
        't-d': { start: 0, done: {} },
      },
    });
    expect(retry.retried.map((r) => [r.target, r.stepNumber, r.stepId, r.carried])).toEqual([
      ['b', 2, 'change', { stop: 'job-1' }],
      ['c', 2, 'change', { stop: 'job-1' }],
      ['d', 1, 'stop', {}],
    ]);
  });

  it('starts a target whose changes were undone (even half) at its first step, carrying nothing', () => {
    const retry = planRetry(
      source([...first, { stepId: 'stop.rollback', targetId: 't-b', status: 'failed', facts: null }]),
    )!;
    expect(retry.resume.targets['t-b']).toEqual({ start: 0, done: {} });
    expect(retry.retried[0]).toMatchObject({ target: 'b', stepNumber: 1, rolledBack: true });
  });

  it('is null when every target got through', () => {
    const all = hosts.flatMap((h) => ['stop', 'change', 'start'].map((s) => ok(s, h.name)));
    expect(planRetry(source(all))).toBeNull();
  });

  it('a retry of a retry keeps the lineage: carried steps stand from the job they ran in', () => {
    const retry = planRetry(source(first))!;
    // The retry (job-2) ran b's change and failed its start; c failed its change; d got through.
    const second = planRetry({
      id: 'job-2',
      plan,
      targets: retry.targets,
      resume: retry.resume,
      rootJobId: retry.resume.rootJobId,
      results: [
        ok('change', 'b', { x: '1' }),
        failed('start', 'b'),
        failed('change', 'c'),
        ok('stop', 'd'),
        ok('change', 'd'),
        ok('start', 'd'),
      ],
    })!;
    expect(second.resume.rootJobId).toBe('job-1');
    expect(second.resume.retryOf).toBe('job-2');
    expect(second.targets.targets.map((t) => t.name)).toEqual(['b', 'c']);
    expect(second.resume.targets['t-b']).toEqual({
      start: 2,
      done: { stop: { jobId: 'job-1', facts: stopped }, change: { jobId: 'job-2', facts: { x: '1' } } },
    });
    expect(second.resume.targets['t-c']).toEqual({ start: 1, done: { stop: { jobId: 'job-1', facts: stopped } } });
  });

  it('counts the executor as a column for steps without targets; one whose steps stand is shown done', () => {
    const withLocal = Plan.parse({
      ...plan,
      steps: [{ id: 'note', name: 'Note', action: { method: 'local-command', command: 'date' } }, ...plan.steps],
    });
    const retry = planRetry(
      source([{ stepId: 'note', targetId: EXECUTOR_TARGET.id, status: 'succeeded', facts: null }, ...first], {
        plan: withLocal,
      }),
    )!;
    expect(retry.resume.targets[EXECUTOR_TARGET.id]).toEqual({
      start: 4,
      done: { note: { jobId: 'job-1', facts: null } },
    });
    expect(retry.retried.map((r) => r.target)).toEqual(['b', 'c', 'd']);
    const failedNote = planRetry(
      source([{ stepId: 'note', targetId: EXECUTOR_TARGET.id, status: 'failed', facts: null }], { plan: withLocal }),
    )!;
    expect(failedNote.resume.targets[EXECUTOR_TARGET.id]).toEqual({ start: 0, done: {} });
    expect(failedNote.retried.at(-1)).toMatchObject({ target: 'executor', stepNumber: 1 });
  });
});
