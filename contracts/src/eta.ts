import { z } from 'zod';

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
  /** Steps with the same phase run at once and share the window (the OS variants of one plan step); default: its index. */
  phase?: number;
  /** The phase under way only: seconds since it started, and the targets it runs in all (done, running and pending). */
  sinceStart?: number;
  targets?: number;
}

/**
 * What the platform adds to a step beyond its targets' own runs, learned from the tenant's recent
 * jobs (see `learnPlatform`): the dispatch of each target's action through Temporal to an
 * executor (a throughput bound), the latency of each wave, and the gap between steps.
 */
export const PlatformTiming = z.object({
  /** Seconds of a step's wall time per target it dispatches (1 / the platform's dispatch rate). */
  perTargetSeconds: z.number().min(0),
  /** Seconds a lane loses per wave: from a target's end to the next target's start on that lane. */
  perWaveSeconds: z.number().min(0),
  /** Seconds from one step's last target to the next step's first one (and from the start to the first). */
  stepGapSeconds: z.number().min(0),
  /** Activity slots of the executors serving the job, when known: the window is never wider. */
  slots: z.number().int().min(1).nullable(),
  /** Recent steps the figures were learned from; 0: the defaults. */
  samples: z.number().int().min(0),
  /**
   * Seconds a target's run grows by per target running beside it (the executor's and the hosts'
   * shared CPU), learned from runs of one tool at different widths; absent: not known.
   */
  perConcurrentSeconds: z.number().min(0).optional(),
});
export type PlatformTiming = z.infer<typeof PlatformTiming>;

/** Nothing but the targets' own runs: what the ETA modelled before the platform's cost was learned. */
export const NO_PLATFORM_COST: PlatformTiming = {
  perTargetSeconds: 0,
  perWaveSeconds: 0,
  stepGapSeconds: 0,
  slots: null,
  samples: 0,
};

/** Before the platform has run a job: measured on two busy cores at 25–1,000 targets (docs/benchmarks.md). */
export const DEFAULT_PLATFORM: PlatformTiming = {
  perTargetSeconds: 0.03,
  perWaveSeconds: 0.4,
  stepGapSeconds: 1,
  slots: null,
  samples: 0,
};

/**
 * Seconds a running target has left: what its step's slow end leaves, but never nothing: one that
 * has run past the slow end is expected to take a fifth as long again (the longer it runs, the
 * longer it is likely to run on), so an overdue step never reads "0 s remaining".
 */
export const runningLeft = (elapsed: number, tail: number): number =>
  Math.max(tail - elapsed, 0.2 * Math.max(tail, elapsed, 1));

const group = (steps: readonly StepTiming[], current: number) => {
  const phases = new Map<number, { steps: StepTiming[] }>();
  for (const [i, step] of steps.entries()) {
    if (i < current) continue;
    const key = step.phase ?? i;
    const entry = phases.get(key) ?? { steps: [] };
    entry.steps.push(step);
    phases.set(key, entry);
  }
  return [...phases.values()];
};

/** Seconds one phase has left from its state, by the model below; null when none of its steps is timed. */
const phaseSeconds = (
  steps: readonly StepTiming[],
  slots: number,
  platform: PlatformTiming,
  pending: number,
  running: readonly number[],
): number | null => {
  const timed = steps.filter((s) => s.expectedSeconds !== null);
  if (timed.length === 0) return null;
  if (pending === 0 && running.length === 0) return 0;
  // Variants share the window: their mean weighted by their targets, the slowest end of any.
  const weight = timed.reduce((n, s) => n + (s.targets ?? s.pending + s.runningElapsed.length), 0);
  const expected =
    weight === 0
      ? Math.max(...timed.map((s) => s.expectedSeconds!))
      : timed.reduce((n, s) => n + s.expectedSeconds! * (s.targets ?? s.pending + s.runningElapsed.length), 0) / weight;
  const tail = Math.max(expected, ...timed.map((s) => Math.max(s.expectedSeconds!, s.tailSeconds ?? 0)));
  const left = running.map((elapsed) => runningLeft(elapsed, tail));
  const longestRunning = left.length ? Math.max(...left) : 0;
  const freeNow = Math.max(0, slots - running.length);
  const waves = pending === 0 ? 0 : pending <= freeNow ? 1 : 1 + Math.ceil((pending - freeNow) / slots);
  const latencyBound = waves === 0 ? 0 : (waves - 1) * (expected + platform.perWaveSeconds) + tail;
  const throughputBound = pending === 0 ? 0 : pending * platform.perTargetSeconds + tail;
  // A phase under way has had its gap; the others wait for theirs.
  const gap = running.length > 0 ? 0 : platform.stepGapSeconds;
  return gap + Math.max(longestRunning, latencyBound + platform.perWaveSeconds, throughputBound);
};

/**
 * Seconds until the job ends. Each phase (a step, or the OS variants of one that run at once) is a
 * sliding window of `maxParallel` (or the executors' slots, if fewer) over its pending targets: they
 * take the free lanes now and the rest follow in waves of the expected time plus the platform's
 * per-wave latency, the last wave ending with the slow end, since a step is over only when its
 * slowest target is. The platform also dispatches at most one target per `perTargetSeconds`, so a
 * wide step takes at least that long per target; and each phase not started waits the step gap.
 * The phase under way has at least what the model gave it at its start, less the time since: its
 * targets are launched at once but start on the executors one by one. Steps before `current` are
 * done. Null when no step's duration is known at all.
 */
export const estimateRemainingSeconds = (
  steps: readonly StepTiming[],
  maxParallel: number,
  current: number,
  platform: PlatformTiming = NO_PLATFORM_COST,
): number | null => {
  let total = 0;
  let known = false;
  const slots = Math.max(1, Math.min(maxParallel, platform.slots ?? maxParallel));
  for (const phase of group(steps, current)) {
    const pending = phase.steps.reduce((n, s) => n + s.pending, 0);
    const running = phase.steps.flatMap((s) => s.runningElapsed);
    const now = phaseSeconds(phase.steps, slots, platform, pending, running);
    if (now === null) continue;
    known = true;
    const since = phase.steps.find((s) => s.sinceStart !== undefined)?.sinceStart;
    const targets = phase.steps.reduce((n, s) => n + (s.targets ?? 0), 0);
    const fromStart =
      since === undefined || targets === 0 || now === 0
        ? 0
        : (phaseSeconds(phase.steps, slots, platform, targets, []) ?? 0) - since;
    total += Math.max(now, fromStart);
  }
  return known ? total : null;
};

/** How sure the estimate is: history on (nearly) every target and a learned platform, or less. */
export const EtaConfidence = z.enum(['low', 'medium', 'high']);
export type EtaConfidence = z.infer<typeof EtaConfidence>;

/** Where the job's per-target durations come from, over its (step, target) pairs. */
export const EtaBasis = z.object({
  /** Targets of the widest step, and of them the most any step has no history on (tool, target) for. */
  targets: z.number().int().min(0),
  withoutHistory: z.number().int().min(0),
  /** Steps timed from the tool's runs on other targets, from the tool's own estimate, and not at all. */
  toolSteps: z.number().int().min(0),
  estimateSteps: z.number().int().min(0),
  unknownSteps: z.number().int().min(0),
});
export type EtaBasis = z.infer<typeof EtaBasis>;

/** The ETA as shown: a range around the best guess, how sure it is, and why. */
export const EtaRange = z.object({
  lowSeconds: z.number().min(0),
  highSeconds: z.number().min(0),
  confidence: EtaConfidence,
  reason: z.string(),
});
export type EtaRange = z.infer<typeof EtaRange>;

const SPREAD: Record<EtaConfidence, number> = { high: 0.1, medium: 0.2, low: 0.4 };

/** How sure the first estimate is, and why, from where its durations come from. */
export const confidenceOf = (basis: EtaBasis, platform: PlatformTiming): { confidence: EtaConfidence; why: string } => {
  const parts: string[] = [];
  if (basis.withoutHistory === 0 && basis.targets > 0) parts.push(`history on all ${basis.targets} targets`);
  else if (basis.targets > 0) parts.push(`no history for ${basis.withoutHistory} of ${basis.targets} targets`);
  if (basis.toolSteps > 0) parts.push(`${basis.toolSteps} step(s) timed from other targets`);
  if (basis.estimateSteps > 0) parts.push(`${basis.estimateSteps} step(s) from the tool's estimate`);
  if (basis.unknownSteps > 0) parts.push(`${basis.unknownSteps} step(s) of unknown length`);
  parts.push(
    platform.samples > 0
      ? `dispatch learned from ${platform.samples} recent step(s)`
      : 'no recent jobs to learn dispatch from',
  );
  const covered = basis.targets === 0 ? 1 : 1 - basis.withoutHistory / basis.targets;
  const confidence: EtaConfidence =
    basis.unknownSteps > 0 || basis.estimateSteps > 0 || platform.samples === 0
      ? 'low'
      : covered >= 0.9 && platform.samples >= 3
        ? 'high'
        : 'medium';
  return { confidence, why: parts.join('; ') };
};

/**
 * The live ETA: the model's remaining time, corrected by how this run's pace compares with the
 * model's so far. `done` is the fraction of the modelled work that is over and `elapsed` the seconds
 * the run has taken for it; the correction is trusted in proportion to the work behind it (with a
 * model from history, about half a fifth of the way through, so the first fast targets do not swing
 * it; with one from the tools' estimates, at once). The range narrows as the
 * job goes on; the confidence rises to what the pace has shown.
 */
/**
 * How much of the job must be done before its pace counts as much as the model: a model from the
 * tools' own estimates (low confidence) gives way to the run at once, one from history slowly.
 */
const PRIOR_WEIGHT: Record<EtaConfidence, number> = { low: 0.02, medium: 0.2, high: 0.2 };

export const liveEstimate = (input: {
  modelRemaining: number;
  modelTotal: number;
  done: number;
  elapsed: number | null;
  confidence: EtaConfidence;
  why: string;
  workLeft: boolean;
}): { seconds: number; range: EtaRange } => {
  const { modelRemaining, modelTotal, elapsed, workLeft } = input;
  const done = Math.min(1, Math.max(0, input.done));
  let seconds = modelRemaining;
  let confidence = input.confidence;
  let why = input.why;
  if (elapsed !== null && done > 0 && modelTotal > 0) {
    const pace = Math.min(50, Math.max(0.02, elapsed / (done * modelTotal)));
    const trust = done / (done + PRIOR_WEIGHT[input.confidence]);
    // Faster than the model: by a factor (a tool's estimate 20x too long is 20x too long for the
    // rest too); slower: in proportion.
    seconds = modelRemaining * (pace < 1 ? pace ** trust : 1 + (pace - 1) * trust);
    if (done >= 0.25 && confidence === 'low') confidence = 'medium';
    if (done >= 0.5) confidence = 'high';
    // Said once there is something to say: the first targets are still on their way.
    if (done >= 0.05)
      why = `${Math.round(done * 100)}% done at ${pace >= 1 ? `${pace.toFixed(1)}x` : `${(1 / pace).toFixed(1)}x faster than`} the model's pace; ${why}`;
  }
  if (workLeft) seconds = Math.max(seconds, 1);
  const spread = SPREAD[input.confidence] * (1 - 0.7 * done);
  return {
    seconds,
    range: {
      lowSeconds: Math.max(workLeft ? 1 : 0, Math.round(seconds * (1 - spread))),
      highSeconds: Math.max(workLeft ? 1 : 0, Math.round(seconds * (1 + spread))),
      confidence,
      reason: why,
    },
  };
};

/** A recent step of the platform, as the executors timed it. */
export interface StepSample {
  targets: number;
  /** The job's window. */
  maxParallel: number;
  /** From its first target's start to its last one's end. */
  wallSeconds: number;
  /** Mean and slow end of its targets' own runs. */
  meanSeconds: number;
  tailSeconds: number;
  /** From the previous step's last end to this step's first start; null for a first step. */
  gapSeconds: number | null;
  /** The step's tool: its runs at different widths tell how a run slows with the targets beside it. */
  toolKey?: string;
}

/**
 * How much a run slows per target running beside it: the slope of a tool's mean run time over the
 * width it ran at (targets, at most the window), pooled over the tools seen at two widths or more.
 */
const contentionOf = (rows: readonly StepSample[]): number | undefined => {
  const byTool = new Map<string, { k: number; d: number }[]>();
  for (const s of rows) {
    if (!s.toolKey) continue;
    const list = byTool.get(s.toolKey) ?? [];
    list.push({ k: Math.min(s.targets, s.maxParallel), d: s.meanSeconds });
    byTool.set(s.toolKey, list);
  }
  let sxy = 0;
  let sxx = 0;
  for (const list of byTool.values()) {
    if (new Set(list.map((x) => x.k)).size < 2) continue;
    const k = list.reduce((a, x) => a + x.k, 0) / list.length;
    const d = list.reduce((a, x) => a + x.d, 0) / list.length;
    for (const x of list) {
      sxy += (x.k - k) * (x.d - d);
      sxx += (x.k - k) ** 2;
    }
  }
  return sxx > 0 ? Math.max(0, sxy / sxx) : undefined;
};

/**
 * A run time measured at one width, at another: plus the contention per target beside it (never
 * below half of what was measured). Unchanged where the contention is not known.
 */
export const atWidth = (seconds: number, from: number, to: number, platform: PlatformTiming): number =>
  platform.perConcurrentSeconds === undefined
    ? seconds
    : Math.max(seconds / 2, seconds + platform.perConcurrentSeconds * (to - from));

const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

/** Seconds a step of `targets` targets takes from its first start, by the model of `estimateRemainingSeconds`. */
const stepWall = (s: StepSample, width: number, perTarget: number, perWave: number): number => {
  const waves = Math.ceil(s.targets / width);
  const tail = Math.max(s.meanSeconds, s.tailSeconds);
  return Math.max((waves - 1) * (s.meanSeconds + perWave) + tail + perWave, s.targets * perTarget + tail);
};

/**
 * The platform's cost, learned from recent steps: the per-target and per-wave costs that make the
 * step model (`estimateRemainingSeconds`) fit what the steps took best, by relative error (a search
 * over a grid: the model is a maximum of two bounds, not a line); the step gap is the median gap.
 * Nothing to learn from: the defaults.
 */
export const learnPlatform = (samples: readonly StepSample[], slots: number | null = null): PlatformTiming => {
  const rows = samples.filter((s) => s.targets > 0 && s.wallSeconds > 0);
  if (rows.length === 0) return { ...DEFAULT_PLATFORM, slots };
  const width = (s: StepSample) => Math.max(1, Math.min(s.maxParallel, slots ?? s.maxParallel));
  const misfit = (c: number, a: number) =>
    rows.reduce((x, s) => x + ((stepWall(s, width(s), c, a) - s.wallSeconds) / s.wallSeconds) ** 2, 0);
  let best = { c: 0, a: 0, err: Infinity };
  // Coarse, then fine around the best: per target 0–200 ms, per wave 0–3 s.
  for (const [cStep, aStep, around] of [
    [0.004, 0.1, null],
    [0.0002, 0.005, 1],
  ] as const) {
    const c0 = around === null ? 0 : Math.max(0, best.c - 0.004);
    const a0 = around === null ? 0 : Math.max(0, best.a - 0.1);
    const cEnd = around === null ? 0.2 : best.c + 0.004;
    const aEnd = around === null ? 3 : best.a + 0.1;
    for (let c = c0; c <= cEnd + 1e-12; c += cStep)
      for (let a = a0; a <= aEnd + 1e-12; a += aStep) {
        const err = misfit(c, a);
        if (err < best.err) best = { c, a, err };
      }
  }
  const gaps = rows.flatMap((s) => (s.gapSeconds === null ? [] : [Math.max(0, s.gapSeconds)]));
  const contention = contentionOf(rows);
  return {
    perTargetSeconds: Math.round(best.c * 1e5) / 1e5,
    perWaveSeconds: Math.round(best.a * 1e3) / 1e3,
    stepGapSeconds: median(gaps) ?? DEFAULT_PLATFORM.stepGapSeconds,
    slots,
    samples: rows.length,
    ...(contention !== undefined && { perConcurrentSeconds: Math.round(contention * 1e5) / 1e5 }),
  };
};

/** "8–12 minutes", "40–55 s": a range in the unit its upper end reads best in. */
export const formatEtaRange = (low: number, high: number): string => {
  if (high < 90) return `${Math.round(low)}–${Math.max(Math.round(high), Math.round(low))} s`;
  if (high < 5400) {
    const lo = Math.max(0, Math.floor(low / 60));
    const hi = Math.max(lo + (Math.ceil(high / 60) > lo ? 0 : 1), Math.ceil(high / 60));
    return `${lo}–${hi} minutes`;
  }
  return `${(low / 3600).toFixed(1)}–${(high / 3600).toFixed(1)} hours`;
};
