/** What the ETA needs to know of one step. */
export interface StepTiming {
  /** Expected seconds of one target's run; null when nothing is known. */
  expectedSeconds: number | null;
  /** Seconds of the slow end of the step's targets (at least `expectedSeconds`): the last wave ends with it. */
  tailSeconds: number | null;
  /** Targets not yet launched. */
  pending: number;
  /** Seconds each running target has been at it (the current step only). */
  runningElapsed: number[];
}

/**
 * Seconds until the job ends, modelling each step as a sliding window of `maxParallel` over its
 * pending targets: the pending ones take the free slots now and the rest follow in waves of the
 * expected time, the last wave ending with the slow end (`tailSeconds`), since a step is over only
 * when its slowest target is; a running target may be that one too. Steps before `current` are
 * done. Null when no step's duration is known at all.
 */
export const estimateRemainingSeconds = (
  steps: readonly StepTiming[],
  maxParallel: number,
  current: number,
): number | null => {
  let total = 0;
  let known = false;
  const slots = Math.max(1, maxParallel);
  for (const [i, step] of steps.entries()) {
    const expected = step.expectedSeconds;
    if (i < current || expected === null) continue;
    known = true;
    const tail = Math.max(expected, step.tailSeconds ?? expected);
    const runningLeft = step.runningElapsed.map((elapsed) => Math.max(0, tail - elapsed));
    const longestRunning = runningLeft.length ? Math.max(...runningLeft) : 0;
    const freeNow = Math.max(0, slots - runningLeft.length);
    const waves =
      step.pending === 0 ? 0 : step.pending <= freeNow ? 1 : 1 + Math.ceil((step.pending - freeNow) / slots);
    total += Math.max(longestRunning, waves === 0 ? 0 : (waves - 1) * expected + tail);
  }
  return known ? total : null;
};
