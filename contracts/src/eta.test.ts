import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PLATFORM,
  atWidth,
  confidenceOf,
  estimateRemainingSeconds,
  formatEtaRange,
  learnPlatform,
  liveEstimate,
  runningLeft,
  type PlatformTiming,
  type StepSample,
} from './eta.js';

/** A deterministic spread of run times around `mean` (±30%), as SSH runs on a busy host vary. */
const runTimes = (n: number, mean: number, seed: number): number[] =>
  Array.from({ length: n }, (_, i) => mean * (0.7 + (0.6 * (((i + 1) * 7919 * seed) % 101)) / 100));

/**
 * A step as the platform runs it: `lanes` lanes; one dispatcher that launches a target per `perTarget`
 * seconds (Temporal and the executor's serial work); a lane's next target starts `perWave` after its
 * last one ended. Returns the wall time from the first start to the last end.
 */
const simulateStep = (times: number[], lanes: number, perTarget: number, perWave: number): number => {
  const free = new Array<number>(Math.min(lanes, times.length)).fill(0);
  let dispatcher = 0;
  let end = 0;
  for (const [i, d] of times.entries()) {
    const lane = free.indexOf(Math.min(...free));
    const start = Math.max(i < free.length ? 0 : free[lane]! + perWave, dispatcher);
    dispatcher = start + perTarget;
    free[lane] = start + d;
    end = Math.max(end, start + d);
  }
  return end;
};

/** A job of steps as the platform runs it, the gap between steps included (and before the first). */
const simulateJob = (steps: number[][], lanes: number, p: { perTarget: number; perWave: number; gap: number }) =>
  steps.reduce((t, times) => t + p.gap + simulateStep(times, lanes, p.perTarget, p.perWave), 0);

const stats = (times: number[]) => {
  const sorted = [...times].sort((a, b) => a - b);
  return {
    mean: times.reduce((a, b) => a + b, 0) / times.length,
    tail: sorted[Math.floor(0.95 * (sorted.length - 1))]!,
  };
};

/** The 3-step rollout of `bench:rollout`: check (0.3 s), copy (0.8 s), restart (1.5 s) per host. */
const rollout = (n: number, seed: number) => [
  runTimes(n, 0.3, seed),
  runTimes(n, 0.8, seed + 1),
  runTimes(n, 1.5, seed + 2),
];
/** Measured on the busy 2-core machine: ~20 ms of serial dispatch per target, 0.4 s per wave, 1 s between steps. */
const BUSY = { perTarget: 0.02, perWave: 0.4, gap: 1 };

const samplesOf = (n: number, maxParallel: number, seed: number): StepSample[] =>
  rollout(n, seed).map((times, i) => ({
    targets: n,
    maxParallel,
    wallSeconds: simulateStep(times, maxParallel, BUSY.perTarget, BUSY.perWave),
    meanSeconds: stats(times).mean,
    tailSeconds: stats(times).tail,
    gapSeconds: i === 0 ? null : BUSY.gap,
  }));

const firstEstimate = (n: number, maxParallel: number, platform: PlatformTiming, seed: number) =>
  estimateRemainingSeconds(
    rollout(n, seed).map((times) => ({
      expectedSeconds: stats(times).mean,
      tailSeconds: stats(times).tail,
      pending: n,
      runningElapsed: [],
    })),
    maxParallel,
    0,
    platform,
  )!;

const error = (estimate: number, actual: number) => (estimate - actual) / actual;

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

  it('runs the OS variants of a step at once, in one window, and never reads 0 while a target runs overdue', () => {
    const variants = [
      { expectedSeconds: 2, tailSeconds: 2, pending: 7, runningElapsed: [], phase: 0 },
      { expectedSeconds: 4, tailSeconds: 6, pending: 5, runningElapsed: [], phase: 0 },
    ];
    // 12 targets in a window of 25: one wave, ending with the Windows variants' slow end.
    expect(estimateRemainingSeconds(variants, 25, 0)).toBe(6);
    // A target 20 s into a 6 s step is late, not done: it still has a fifth of its time to go.
    expect(runningLeft(20, 6)).toBe(4);
    expect(
      estimateRemainingSeconds([{ expectedSeconds: 2, tailSeconds: 6, pending: 0, runningElapsed: [20] }], 25, 0),
    ).toBeGreaterThan(0);
  });

  it('keeps what the model gave the step under way at its start, less the time since: no drop as its targets launch', () => {
    const platform: PlatformTiming = {
      perTargetSeconds: 0.05,
      perWaveSeconds: 0.5,
      stepGapSeconds: 1,
      slots: null,
      samples: 3,
    };
    const before = estimateRemainingSeconds(
      [{ expectedSeconds: 2, tailSeconds: 3, pending: 40, runningElapsed: [] }],
      40,
      0,
      platform,
    )!;
    // The gap, then one wave: the larger of 3 s + 0.5 s and 40 x 0.05 s + 3 s.
    expect(before).toBe(1 + 5);
    // All 40 launched at once, 0.1 s ago: the workflow sees them running, the executors start them one by one.
    const launched = {
      expectedSeconds: 2,
      tailSeconds: 3,
      pending: 0,
      runningElapsed: new Array<number>(40).fill(0.1),
    };
    expect(estimateRemainingSeconds([launched], 40, 0, platform)).toBeCloseTo(2.9);
    expect(estimateRemainingSeconds([{ ...launched, sinceStart: 0.1, targets: 40 }], 40, 0, platform)).toBeCloseTo(5.9);
  });

  it('learns the platform from steps of other sizes and estimates a first run of a new size within 20%', () => {
    // The platform has run the rollout on 25, 100 and 200 hosts (window 100): learn from those.
    const platform = learnPlatform([...samplesOf(25, 100, 1), ...samplesOf(100, 100, 2), ...samplesOf(200, 100, 3)]);
    expect(platform.samples).toBe(9);
    expect(platform.stepGapSeconds).toBe(1);
    expect(platform.perTargetSeconds).toBeGreaterThan(0.01);
    for (const n of [25, 100, 200, 1000]) {
      const actual = simulateJob(rollout(n, 40 + n), 100, BUSY);
      // History per (tool, target) gives the runs' own times; the platform's cost is what was learned.
      expect(Math.abs(error(firstEstimate(n, 100, platform, 40 + n), actual))).toBeLessThan(0.2);
    }
    // The runs' times alone, as the ETA had it before (waves x durations), are far off at 1,000.
    const naive = firstEstimate(
      1000,
      100,
      { ...DEFAULT_PLATFORM, perTargetSeconds: 0, perWaveSeconds: 0, stepGapSeconds: 0 },
      1040,
    );
    expect(error(naive, simulateJob(rollout(1000, 1040), 100, BUSY))).toBeLessThan(-0.3);
  });

  it('learns how a run slows with the targets beside it, and moves history to the width a step runs at', () => {
    // bench:rollout on two busy cores: the 1 MiB copy took 0.70 s per host beside 10, 1.41 s beside 20.
    const copy = (targets: number, mean: number): StepSample => ({
      targets,
      maxParallel: targets,
      wallSeconds: mean + 0.1,
      meanSeconds: mean,
      tailSeconds: mean,
      gapSeconds: 0.1,
      toolKey: 'file-copy',
    });
    const platform = learnPlatform([copy(10, 0.7), copy(20, 1.41), copy(10, 0.66)]);
    expect(platform.perConcurrentSeconds).toBeCloseTo(0.0728, 3);
    // History at 10 wide, a step of 40: the copy is expected to take about 2.9 s.
    expect(atWidth(0.68, 10, 40, platform)).toBeCloseTo(0.68 + 30 * 0.0728, 1);
    // Never below half of what was measured; unchanged where nothing was learned.
    expect(atWidth(0.68, 20, 1, platform)).toBe(0.34);
    expect(atWidth(0.68, 10, 40, DEFAULT_PLATFORM)).toBe(0.68);
  });

  it('refines live from the run pace: converges on the truth and never jumps wildly', () => {
    // The model thinks 100 s; the run goes at half its pace and takes 200 s.
    const modelTotal = 100;
    const actual = 200;
    let last: number | null = null;
    const errors: Record<number, number> = {};
    for (let t = 0; t < actual; t += 1) {
      const done = t / actual;
      const { seconds, range } = liveEstimate({
        modelRemaining: modelTotal * (1 - done),
        modelTotal,
        done,
        elapsed: t,
        confidence: 'medium',
        why: 'test',
        workLeft: true,
      });
      expect(seconds).toBeGreaterThanOrEqual(1);
      expect(range.lowSeconds).toBeLessThanOrEqual(Math.round(seconds));
      expect(range.highSeconds).toBeGreaterThanOrEqual(Math.round(seconds));
      // Seconds left move smoothly: at most a few seconds per second of the run.
      if (last !== null) expect(Math.abs(seconds - last)).toBeLessThan(5);
      last = seconds;
      if (t === actual / 4 || t === actual / 2) errors[t] = error(t + seconds, actual);
    }
    // From -50% at the start, to within 20% at a quarter and 10% at half way.
    expect(Math.abs(errors[actual / 4]!)).toBeLessThan(0.2);
    expect(Math.abs(errors[actual / 2]!)).toBeLessThan(0.1);
  });

  it("gives way at once to the run's pace when the model is only the tools' estimates", () => {
    // The tools say 2,000 s; the simulated fleet takes 100 s (the seed scenarios' first runs).
    const modelTotal = 2_000;
    const actual = 100;
    const at = (done: number) =>
      liveEstimate({
        modelRemaining: modelTotal * (1 - done),
        modelTotal,
        done,
        elapsed: done * actual,
        confidence: 'low',
        why: 'test',
        workLeft: true,
      }).seconds;
    expect(Math.abs(error(actual / 4 + at(0.25), actual))).toBeLessThan(0.2);
    expect(Math.abs(error(actual / 2 + at(0.5), actual))).toBeLessThan(0.1);
    // And the other way: tools that promise 100 s of what takes 1,000.
    const slow = (done: number) =>
      liveEstimate({
        modelRemaining: 100 * (1 - done),
        modelTotal: 100,
        done,
        elapsed: done * 1_000,
        confidence: 'low',
        why: 'test',
        workLeft: true,
      }).seconds;
    expect(Math.abs(error(250 + slow(0.25), 1_000))).toBeLessThan(0.2);
    expect(Math.abs(error(500 + slow(0.5), 1_000))).toBeLessThan(0.1);
  });

  it('says how sure it is and why', () => {
    const learned = { ...DEFAULT_PLATFORM, samples: 9 };
    const first = confidenceOf(
      { targets: 200, withoutHistory: 180, toolSteps: 3, estimateSteps: 0, unknownSteps: 0 },
      learned,
    );
    expect(first.confidence).toBe('medium');
    expect(first.why).toContain('no history for 180 of 200 targets');
    const again = confidenceOf(
      { targets: 200, withoutHistory: 0, toolSteps: 0, estimateSteps: 0, unknownSteps: 0 },
      learned,
    );
    expect(again).toEqual({
      confidence: 'high',
      why: 'history on all 200 targets; dispatch learned from 9 recent step(s)',
    });
    const fresh = confidenceOf(
      { targets: 10, withoutHistory: 10, toolSteps: 0, estimateSteps: 2, unknownSteps: 0 },
      DEFAULT_PLATFORM,
    );
    expect(fresh.confidence).toBe('low');
    expect(fresh.why).toContain('no recent jobs to learn dispatch from');
  });

  it('reads a range in the unit that suits it', () => {
    expect(formatEtaRange(480, 720)).toBe('8–12 minutes');
    expect(formatEtaRange(40, 55)).toBe('40–55 s');
    expect(formatEtaRange(100, 110)).toBe('1–2 minutes');
  });
});
