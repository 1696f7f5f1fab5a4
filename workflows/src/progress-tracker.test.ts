import { describe, expect, it } from 'vitest';
import { Plan } from '@opsc/contracts';
import { ProgressTracker } from './progress-tracker.js';

const plan = Plan.parse({
  name: 'three steps',
  steps: ['a', 'b', 'c'].map((id) => ({ id, name: `Step ${id}`, action: { method: 'local-command', command: 'true' } })),
});
const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, seconds));
const target = { id: 'executor', name: 'executor' };

describe('ProgressTracker', () => {
  it('reports the current step, counts and an ETA from finished steps', () => {
    const tracker = new ProgressTracker('job-1', plan, plan.steps.map(() => 1), at(0));
    tracker.setStatus('running', at(0));
    expect(tracker.snapshot(at(0))).toMatchObject({ currentStep: 0, stepName: null, estimatedSecondsRemaining: null });

    tracker.startStep(0, at(0));
    tracker.startTarget(0, 'executor');
    expect(tracker.snapshot(at(1)).targetProgress).toMatchObject({ total: 1, running: 1, pending: 0, currentTargets: ['executor'] });
    tracker.finishTarget(0, { stepId: 'a', target, status: 'succeeded' }, 'exit code 0', at(10));
    tracker.finishStep(0, 'succeeded', at(10));
    tracker.startStep(1, at(10));
    const snap = tracker.snapshot(at(14));
    expect(snap).toMatchObject({ currentStep: 2, totalSteps: 3, stepName: 'Step b' });
    // 10 s per step on average, 2 steps left, 4 s into the current one.
    expect(snap.estimatedSecondsRemaining).toBe(16);
    expect(snap.steps.map((s) => s.status)).toEqual(['succeeded', 'running', 'pending']);
    expect(snap.logs.at(-1)?.message).toBe('Step 2 of 3: Step b');
  });

  it('marks skipped steps and counts a failed target', () => {
    const tracker = new ProgressTracker('job-2', plan, plan.steps.map(() => 1), at(0));
    tracker.startStep(0, at(0));
    tracker.startTarget(0, 'executor');
    tracker.finishTarget(0, { stepId: 'a', target, status: 'failed', error: { type: 'CommandFailed', message: 'exit 1' } }, 'CommandFailed', at(1));
    tracker.finishStep(0, 'failed', at(1));
    tracker.skipRemaining(1, at(1));
    tracker.setStatus('failed', at(1));
    const snap = tracker.snapshot(at(2));
    expect(snap.steps.map((s) => s.status)).toEqual(['failed', 'skipped', 'skipped']);
    expect(snap.targetProgress).toMatchObject({ failed: 1, completed: 0 });
    expect(snap.finishedAt).toBe(at(1).toISOString());
    expect(snap.estimatedSecondsRemaining).toBe(0);
  });

  it('keeps only the most recent log lines', () => {
    const tracker = new ProgressTracker('job-3', plan, plan.steps.map(() => 1), at(0));
    for (let i = 0; i < 120; i += 1) tracker.log(at(0), 'info', `line ${i}`);
    const logs = tracker.snapshot(at(0)).logs;
    expect(logs).toHaveLength(50);
    expect(logs.at(-1)?.message).toBe('line 119');
  });
});
