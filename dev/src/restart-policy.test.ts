import { describe, expect, it } from 'vitest';
import { RestartPolicy } from './restart-policy.js';

const options = { initialDelayMs: 1_000, maxDelayMs: 5_000, stableAfterMs: 60_000, crashLoopAfter: 6 };

/** A policy on a clock the test moves by hand. */
const onClock = (overrides: Partial<typeof options> = {}) => {
  let now = 1_000_000;
  const policy = new RestartPolicy({ ...options, ...overrides }, () => now);
  const runFor = (ms: number) => {
    policy.started();
    now += ms;
    return policy.crashed();
  };
  return { policy, runFor };
};

describe('the restart policy of `npm run up`', () => {
  it('doubles the wait with each quick crash in a row, up to the cap', () => {
    const { runFor } = onClock();
    const delays = [1, 2, 3, 4, 5].map(() => runFor(2_000));
    expect(delays).toEqual([
      { action: 'restart', delayMs: 1_000, quickCrashes: 1, ranMs: 2_000, crashLoop: false },
      { action: 'restart', delayMs: 2_000, quickCrashes: 2, ranMs: 2_000, crashLoop: false },
      { action: 'restart', delayMs: 4_000, quickCrashes: 3, ranMs: 2_000, crashLoop: false },
      { action: 'restart', delayMs: 5_000, quickCrashes: 4, ranMs: 2_000, crashLoop: false },
      { action: 'restart', delayMs: 5_000, quickCrashes: 5, ranMs: 2_000, crashLoop: false },
    ]);
  });

  it('never gives up a service that keeps crashing soon after it starts: it calls it a crash loop and waits the cap', () => {
    const { runFor } = onClock({ crashLoopAfter: 3 });
    expect(runFor(500)).toMatchObject({ action: 'restart', crashLoop: false });
    expect(runFor(59_999)).toMatchObject({ action: 'restart', crashLoop: false });
    expect(runFor(10)).toEqual({ action: 'restart', delayMs: 5_000, quickCrashes: 3, ranMs: 10, crashLoop: true });
    expect(runFor(10)).toEqual({ action: 'restart', delayMs: 5_000, quickCrashes: 4, ranMs: 10, crashLoop: true });
  });

  it('starts afresh after a stable run, however many quick crashes came before', () => {
    const { runFor } = onClock({ crashLoopAfter: 3 });
    runFor(100);
    expect(runFor(100)).toMatchObject({ action: 'restart', delayMs: 2_000, quickCrashes: 2 });
    // A minute up counts as stable: the crash that ends it waits the first delay, and the count restarts.
    expect(runFor(60_000)).toEqual({
      action: 'restart',
      delayMs: 1_000,
      quickCrashes: 0,
      ranMs: 60_000,
      crashLoop: false,
    });
    expect(runFor(100)).toMatchObject({ action: 'restart', delayMs: 1_000, quickCrashes: 1 });
    expect(runFor(100)).toMatchObject({ action: 'restart', delayMs: 2_000, quickCrashes: 2 });
    expect(runFor(100)).toMatchObject({ action: 'restart', quickCrashes: 3, crashLoop: true });
  });

  it('measures a run from its latest start, not from the first', () => {
    let now = 0;
    const policy = new RestartPolicy(options, () => now);
    policy.started();
    now += 120_000;
    policy.started();
    now += 1_000;
    expect(policy.crashed()).toMatchObject({ quickCrashes: 1, ranMs: 1_000 });
  });
});
