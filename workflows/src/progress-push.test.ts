import { describe, expect, it } from 'vitest';
import type { JobProgress } from '@opsc/contracts';
import { PUSH_EVERY_MS, THROTTLED_CELLS, pushAtActivationEnd, pushNow } from './progress-push.js';

const base = { marks: 'running|2|false|false|approved|', pushedMarks: 'running|2|false|false|approved|' };

describe('the workflow pushing its progress', () => {
  it('pushes every change of a small job', () => {
    expect(pushNow({ ...base, cells: THROTTLED_CELLS - 1, now: 1_000, pushedAt: 1_000 })).toBe(true);
  });

  it("holds a large job's cell changes back to one snapshot per interval", () => {
    const large = { ...base, cells: 1_000 * 7 };
    expect(pushNow({ ...large, now: 1_000 + PUSH_EVERY_MS - 1, pushedAt: 1_000 })).toBe(false);
    expect(pushNow({ ...large, now: 1_000 + PUSH_EVERY_MS, pushedAt: 1_000 })).toBe(true);
    expect(pushNow({ ...large, now: 0, pushedAt: Number.NEGATIVE_INFINITY })).toBe(true);
  });

  it('pushes a change of status, step, pause, cancel, approval or decision at once, whatever the size', () => {
    expect(
      pushNow({
        cells: 1_000 * 7,
        marks: 'running|3|false|false|approved|',
        pushedMarks: base.pushedMarks,
        now: 1,
        pushedAt: 1,
      }),
    ).toBe(true);
  });
});

describe('the push at the end of an activation', () => {
  const data = {
    status: 'running',
    stepIndex: 0,
    paused: false,
    cancel: null,
    approval: { status: 'approved' },
    decision: null,
    targetStates: ['running'],
    steps: [{}],
  };

  it('never throws when the snapshot cannot be built (that would fail the workflow task, and stall the job)', () => {
    const sent: string[] = [];
    const sink = { changed: (json: string) => sent.push(json), held: () => sent.push('held') };
    const memory = { pushedAt: Number.NEGATIVE_INFINITY, pushedMilestones: '', held: false };
    let broken = true;
    const job = {
      data,
      snapshot: (): JobProgress => {
        if (broken) throw new TypeError("Cannot read properties of undefined (reading 'status')");
        return { jobId: 'j' } as JobProgress;
      },
    };
    expect(() => pushAtActivationEnd(job, memory, 1_000, sink)).not.toThrow();
    expect(sent).toEqual([]);
    // The next activation pushes once the snapshot can be built again.
    broken = false;
    pushAtActivationEnd(job, memory, 1_001, sink);
    expect(sent).toEqual([JSON.stringify({ jobId: 'j' })]);
  });
});
