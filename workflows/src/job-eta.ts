import {
  Cell,
  NO_PLATFORM_COST,
  basisOf,
  confidenceOf,
  estimateRemainingSeconds,
  estimateRequests,
  expectedAtWidth,
  formatEtaRange,
  liveEstimate,
  phasesOf,
  platformOf,
  type CarriedJobState,
  type EtaRange,
  type LogEntry,
  type OrchestratorActivities,
  type Plan,
  type StepMeta,
  type StepTiming,
} from '@opsc/contracts';

/** What this run has measured beats history once this many targets are through a step. */
const OBSERVED_ENOUGH = 3;

/**
 * A step's expected seconds per target, as the step list shows it: this run's mean once enough
 * targets are through, else the estimate, else what little was seen. The slow end is the longest of
 * the estimate's and of what this run has seen: the first targets through are the fast ones.
 */
export const expectedOf = (
  meta: StepMeta,
): { seconds: number | null; tail: number | null; from: StepMeta['expectedFrom'] } => {
  const observed = meta.observedCount > 0 ? meta.observedMs / meta.observedCount / 1000 : null;
  const tails = [
    meta.expectedTailSeconds ?? meta.expectedSeconds,
    meta.observedCount > 0 ? (meta.observedMaxMs ?? 0) / 1000 : null,
  ].filter((x): x is number => x !== null && x !== undefined);
  const tail = tails.length ? Math.max(...tails) : null;
  if (observed !== null && (meta.observedCount >= OBSERVED_ENOUGH || meta.expectedSeconds === null))
    return { seconds: observed, tail, from: 'observed' };
  return { seconds: meta.expectedSeconds, tail, from: meta.expectedFrom };
};

/**
 * A step's per-target figures for the model: the estimate (the executors' own run times), else what
 * this run has seen. The run's pace corrects the whole (see `liveEstimate`), not each step again.
 */
export const modelExpectedOf = (meta: StepMeta): { seconds: number | null; tail: number | null } =>
  meta.expectedSeconds === null
    ? expectedOf(meta)
    : { seconds: meta.expectedSeconds, tail: meta.expectedTailSeconds ?? meta.expectedSeconds };

/** Seconds the job has been paused in all, up to `now` (a pause under way counted so far). */
export const pausedSecondsOf = (data: Pick<CarriedJobState, 'pausedSeconds' | 'pausedAt'>, now: Date): number =>
  (data.pausedSeconds ?? 0) + (data.pausedAt ? Math.max(0, (now.getTime() - Date.parse(data.pausedAt)) / 1000) : 0);

/** A pause begins (a pause update) or ends (resume, or a cancel that un-pauses): its time is kept apart. */
export const markPause = (data: Pick<CarriedJobState, 'pausedSeconds' | 'pausedAt'>, paused: boolean, now: Date) => {
  if (paused) {
    data.pausedAt ??= now.toISOString();
    return;
  }
  if (!data.pausedAt) return;
  data.pausedSeconds = pausedSecondsOf(data, now);
  data.pausedAt = null;
};

/** The job's ETA now: seconds left and, for runs that estimated with this model, the range shown. */
export const jobEta = (args: {
  /** The steps now, and as they were before anything ran (every target that will run still pending). */
  steps: readonly StepTiming[];
  fresh: readonly StepTiming[];
  maxParallel: number;
  current: number;
  eta: CarriedJobState['eta'];
  /** When the first step started, if it has. */
  startedAt: string | undefined;
  /** Seconds the job has been paused so far: not time it ran, so not in its pace. */
  pausedSeconds?: number;
  now: Date;
}): { seconds: number; range: EtaRange | null } | null => {
  const platform = args.eta?.platform ?? NO_PLATFORM_COST;
  const remaining = estimateRemainingSeconds(args.steps, args.maxParallel, args.current, platform);
  if (remaining === null) return null;
  if (!args.eta) return { seconds: remaining, range: null };
  const total = estimateRemainingSeconds(args.fresh, args.maxParallel, 0, platform) ?? remaining;
  const workLeft = args.steps.some((s, i) => i >= args.current && (s.pending > 0 || s.runningElapsed.length > 0));
  const { confidence, why } = confidenceOf(args.eta.basis, platform);
  const elapsed = args.startedAt
    ? Math.max(0, (args.now.getTime() - Date.parse(args.startedAt)) / 1000 - (args.pausedSeconds ?? 0))
    : null;
  const live = liveEstimate({
    modelRemaining: remaining,
    modelTotal: total,
    done: total > 0 ? 1 - remaining / total : 0,
    elapsed,
    confidence,
    why,
    workLeft,
  });
  return { seconds: live.seconds, range: live.range };
};

/**
 * The ETA of a job's state: per step, what the model needs now and as before anything ran (every
 * target that runs still pending), handed to `jobEta`. Null when nothing is known or the job is
 * not running; 0 once it is over.
 */
export const stateEta = (
  plan: Plan,
  data: CarriedJobState,
  grid: readonly (readonly string[])[],
  running: number[],
  dropsOut: (target: number) => boolean,
  now: Date,
): ReturnType<typeof jobEta> => {
  if (data.finishedAt !== null) return { seconds: 0, range: null };
  if (data.phase !== 'running' && data.phase !== 'approval') return null;
  const phases = phasesOf(plan);
  const gone: string[] = [Cell.notInStep, Cell.doneBefore, Cell.skipped, Cell.cancelled];
  const current = phases[data.stepIndex];
  const timings = (fresh: boolean): StepTiming[] =>
    data.steps.map((meta, i) => {
      const row = grid[i] ?? [];
      const expected = data.eta ? modelExpectedOf(meta) : expectedOf(meta);
      const runs = (c: string, t: number) => !gone.includes(c) && !(c === Cell.pending && dropsOut(t));
      const underWay = !fresh && data.eta && phases[i] === current && meta.status === 'running' && meta.startedAt;
      return {
        expectedSeconds: expected.seconds,
        tailSeconds: expected.tail,
        pending: row.filter(fresh ? runs : (c, t) => c === Cell.pending && !dropsOut(t)).length,
        runningElapsed: !fresh && i === data.stepIndex && meta.status === 'running' ? running : [],
        phase: phases[i],
        ...(underWay && {
          sinceStart: Math.max(0, (now.getTime() - Date.parse(meta.startedAt!)) / 1000),
          targets: row.filter(runs).length,
        }),
      };
    });
  return jobEta({
    steps: timings(false),
    fresh: timings(true),
    maxParallel: plan.policies.maxParallel,
    current: data.stepIndex,
    eta: data.eta,
    startedAt: data.steps[0]?.startedAt,
    pausedSeconds: pausedSecondsOf(data, now),
    now,
  });
};

/** What the estimate from earlier runs writes into: the job's state (see `JobState`). */
export interface EstimatedJob {
  readonly data: { etaSetAt: string | null; eta?: CarriedJobState['eta'] };
  setExpected(index: number, seconds: number | null, from: StepMeta['expectedFrom'], tailSeconds?: number | null): void;
  estimate(now: Date): { seconds: number; range: EtaRange | null } | null;
  log(now: Date, level: LogEntry['level'], message: string): void;
}

/**
 * Times the job's steps from earlier runs of the same tools on the same targets (else on other
 * targets, else the tools' own estimates) and the platform's cost learned from recent jobs, through
 * the orchestrator's `estimateSteps`, and logs the ETA it makes.
 */
export const estimateFromHistory = async (
  estimateSteps: OrchestratorActivities['estimateSteps'],
  jobId: string,
  plan: Plan,
  job: EstimatedJob,
): Promise<void> => {
  const estimates = await estimateSteps({ jobId, steps: estimateRequests(plan) });
  // An orchestrator from before the platform's cost was learned: the defaults, said to be so.
  const platform = platformOf(estimates);
  for (const e of estimates) {
    const index = plan.steps.findIndex((s) => s.id === e.stepId);
    if (index < 0) continue;
    const at = expectedAtWidth(plan, e, platform);
    job.setExpected(index, at.seconds, e.from, at.tailSeconds);
  }
  job.data.eta = { platform, basis: basisOf(plan, estimates) };
  const now = new Date();
  job.data.etaSetAt = now.toISOString();
  const eta = job.estimate(now);
  const shown =
    eta === null
      ? 'No ETA yet'
      : eta.range
        ? `Expected to take ${formatEtaRange(eta.range.lowSeconds, eta.range.highSeconds)} (${eta.range.confidence} confidence: ${eta.range.reason})`
        : `Expected to take about ${Math.round(eta.seconds)} s`;
  job.log(now, 'info', shown);
};
