import { describe, expect, it } from 'vitest';
import { Plan } from '@opsc/contracts';
import { JobState } from './job-state.js';
import { undoEntryFor } from './saga.js';

const step = (id: string) => ({ id, name: `Step ${id}`, targets: { group: 'g' }, action: { method: 'ssh', operation: { op: 'run', argv: ['true'] } } });
const plan = Plan.parse({ name: 'three steps', policies: { maxParallel: 2 }, steps: [step('a'), step('b'), step('c')] });
const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, seconds));
const approval = { required: false, status: 'not_required' as const, planHash: 'h', requestedBy: 'rita', fourEyes: true, deadline: null };
const fresh = () => new JobState('job-1', plan, ['t0', 't1', 't2'], [[0, 1, 2], [0, 1, 2], [0, 1, 2]], -1, { approval, now: at(0) });

describe('JobState', () => {
  it('keeps one cell per step and target, drops a failed target from later steps and counts each target once', () => {
    const s = fresh();
    s.startStep(0, at(0));
    for (const t of [0, 1, 2]) s.startTarget(0, t, at(0));
    expect(s.snapshot(at(1)).matrix[0]).toBe('>>>');
    s.finishTarget(0, 0, true, false, 1_000, 'ok', at(1));
    s.finishTarget(0, 1, false, false, 1_000, 'exit 1', at(1));
    s.finishTarget(0, 2, true, false, 1_000, 'ok', at(1));
    s.finishStep(0, at(1));
    s.startStep(1, at(1));
    expect(s.pendingTargets(1)).toEqual([0, 2]);
    const snap = s.snapshot(at(2));
    expect(snap.matrix).toEqual(['SFS', '.-.', '...']);
    expect(snap.steps[0]).toMatchObject({ status: 'failed', targets: { total: 3, completed: 2, failed: 1 } });
    expect(snap.steps[1]?.targets).toMatchObject({ skipped: 1, pending: 2 });
    expect(snap.targetProgress).toMatchObject({ total: 3, failed: 1, pending: 2, completed: 0 });
    expect(snap).toMatchObject({ currentStep: 2, stepName: 'Step b' });
    expect(snap.logs.at(-1)?.message).toBe('Step 2 of 3: Step b');
  });

  it('marks undone changes and a failed undo loudly, and survives a hand-over to the next run', () => {
    const s = fresh();
    s.startStep(0, at(0));
    s.startTarget(0, 0, at(0));
    s.finishTarget(0, 0, true, false, 500, 'ok', at(1));
    s.recordUndone(0, 0, true, null, at(2));
    s.startTarget(0, 1, at(0));
    s.finishTarget(0, 1, true, false, 500, 'ok', at(1));
    s.recordUndone(0, 1, false, { target: 't1', stepId: 'a', message: 'undo of "Step a" failed' }, at(2));
    s.finishCompensation(0, false);
    s.finishCompensation(1, true);
    const carried = s.handOver();
    const next = new JobState('job-1', plan, ['t0', 't1', 't2'], [[0, 1, 2], [0, 1, 2], [0, 1, 2]], -1, carried);
    const snap = next.snapshot(at(3));
    expect(snap.matrix[0]).toBe('RX.');
    expect(snap.targetStates).toEqual(['rolled_back', 'rollback_failed', 'pending']);
    expect(snap.rollback).toMatchObject({ undone: 1, failed: 1, failures: [{ target: 't1', stepId: 'a' }] });
    expect(snap.runs).toBe(2);
    expect(snap.logs.some((l) => l.level === 'error' && l.message.startsWith('ROLLBACK FAILED'))).toBe(true);
  });
});

describe("the job's ETA", () => {
  it('starts from earlier runs or tool estimates, and prefers what this run has seen', () => {
    const s = fresh();
    s.setExpected(0, 2, 'history');
    s.setExpected(1, 5, 'tool');
    s.setExpected(2, 5, 'tool');
    s.startStep(0, at(0));
    // 3 targets, 2 at once: 2 waves of 2 s, then 2 waves of 5 s twice.
    expect(s.snapshot(at(0)).estimatedSecondsRemaining).toBe(4 + 10 + 10);
    for (const t of [0, 1, 2]) {
      s.startTarget(0, t, at(0));
      s.finishTarget(0, t, true, false, 8_000, 'ok', at(8));
    }
    const snap = s.snapshot(at(8));
    expect(snap.steps[0]).toMatchObject({ expectedSeconds: 8, expectedFrom: 'observed' });
    expect(snap.steps[1]).toMatchObject({ expectedSeconds: 5, expectedFrom: 'tool' });
  });

  it('takes the slow end from history and from the slowest target this run has seen', () => {
    const s = fresh();
    // History: 2 s on average, 6 s at the slow end; 3 targets, 2 at once.
    s.setExpected(0, 2, 'history', 6);
    s.startStep(0, at(0));
    // A first wave of the mean, the last of the slow end.
    expect(s.snapshot(at(0)).estimatedSecondsRemaining).toBe(2 + 6);
    for (const [t, ms] of [[0, 1_000], [1, 9_000]] as const) {
      s.startTarget(0, t, at(0));
      s.finishTarget(0, t, true, false, ms, 'ok', at(ms / 1000));
    }
    // Two seen (too few to replace the history's mean), one 9 s: the last target's wave may last that long.
    const snap = s.snapshot(at(9));
    expect(snap.steps[0]).toMatchObject({ expectedFrom: 'history', expectedSeconds: 2 });
    expect(snap.estimatedSecondsRemaining).toBe(9);
  });
});

describe('undo actions', () => {
  const copy = Plan.parse({
    name: 'copy',
    steps: [
      {
        id: 'copy',
        name: 'Copy',
        targets: { group: 'g' },
        action: { method: 'ssh', operation: { op: 'file-copy', source: 'a', destination: '/opt/a' } },
        rollback: { tool: 'file-restore', name: 'Restore /opt/a', action: { method: 'ssh', become: true, operation: { op: 'file-restore', destination: '/opt/a', backup: '{{facts.backup}}' } } },
      },
    ],
  }).steps[0]!;

  it('fills what the step reported on that target into its undo action, validated', () => {
    expect(undoEntryFor(copy, 0, { backup: '/var/backups/opsc/a.1' }, true)).toEqual({
      step: 0,
      action: { method: 'ssh', become: true, successExitCodes: [0], operation: { op: 'file-restore', destination: '/opt/a', backup: '/var/backups/opsc/a.1' } },
    });
  });

  it('reports a completed change it cannot undo, and leaves alone a failed step that reported nothing', () => {
    expect(undoEntryFor(copy, 0, {}, true)).toEqual({ step: 0, error: 'cannot undo "Copy": the step did not report backup' });
    expect(undoEntryFor(copy, 0, undefined, false)).toBeNull();
    expect(undoEntryFor(copy, 0, { backup: '../../etc/shadow' }, true)?.error).toMatch(/^cannot undo "Copy": its undo action is invalid at operation.backup/);
  });
});
