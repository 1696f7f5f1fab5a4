import { describe, expect, it } from 'vitest';
import { estimateRemainingSeconds } from './eta.js';

describe('the ETA', () => {
  it('models each step as a sliding window: running targets finish, pending ones follow in waves', () => {
    // 10 s per target, 2 at once. Current step: 2 running (4 s in), 3 pending; next step: 5 pending.
    const steps = [
      { expectedSeconds: 10, tailSeconds: null, pending: 3, runningElapsed: [4, 4] },
      { expectedSeconds: 10, tailSeconds: null, pending: 5, runningElapsed: [] },
    ];
    // Current: 1 wave after the running ones + ceil(3/2)=2 more = 30 s; next: 1 + ceil(3/2) = 3 waves = 30 s.
    expect(estimateRemainingSeconds(steps, 2, 0)).toBe(30 + 30);
    expect(estimateRemainingSeconds(steps, 2, 1)).toBe(30);
    expect(
      estimateRemainingSeconds([{ expectedSeconds: null, tailSeconds: null, pending: 4, runningElapsed: [] }], 2, 0),
    ).toBeNull();
  });

  it('ends each step with its slow end: a wave lasts as long as its slowest target', () => {
    // 1 s on average, 3 s at the 95th percentile. 100 targets in 100 slots: one wave, 3 s.
    expect(
      estimateRemainingSeconds([{ expectedSeconds: 1, tailSeconds: 3, pending: 100, runningElapsed: [] }], 100, 0),
    ).toBe(3);
    // 250 in 100 slots: two waves of the mean, the last of the slow end.
    expect(
      estimateRemainingSeconds([{ expectedSeconds: 1, tailSeconds: 3, pending: 250, runningElapsed: [] }], 100, 0),
    ).toBe(1 + 1 + 3);
    // Nothing pending, 2 running for 1 s: either may be the slow one.
    expect(
      estimateRemainingSeconds([{ expectedSeconds: 1, tailSeconds: 3, pending: 0, runningElapsed: [1, 1] }], 100, 0),
    ).toBe(2);
  });
});
