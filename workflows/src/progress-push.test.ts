import { describe, expect, it } from 'vitest';
import { PUSH_EVERY_MS, THROTTLED_CELLS, pushNow } from './progress-push.js';

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
