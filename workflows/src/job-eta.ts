import { toolKeyOf, type LogEntry, type OrchestratorActivities, type Plan, type StepMeta } from '@opsc/contracts';

/** What this run has measured beats history once this many targets are through a step. */
const OBSERVED_ENOUGH = 3;

/**
 * A step's expected seconds per target: this run's mean once enough targets are through, else the
 * estimate, else what little was seen. The slow end is the longest of the estimate's and of what
 * this run has seen: the first targets through are the fast ones, so neither alone will do.
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

/** What the estimate from earlier runs writes into: the job's state (see `JobState`). */
export interface EstimatedJob {
  readonly data: { etaSetAt: string | null };
  setExpected(index: number, seconds: number | null, from: StepMeta['expectedFrom'], tailSeconds?: number | null): void;
  remainingSeconds(now: Date): number | null;
  log(now: Date, level: LogEntry['level'], message: string): void;
}

/**
 * Times the job's steps from earlier runs of the same tools on the same targets (else the tools'
 * own estimates), through the orchestrator's `estimateSteps`, and logs the ETA it makes.
 */
export const estimateFromHistory = async (
  estimateSteps: OrchestratorActivities['estimateSteps'],
  jobId: string,
  plan: Plan,
  job: EstimatedJob,
): Promise<void> => {
  const estimates = await estimateSteps({
    jobId,
    steps: plan.steps.map((step) => ({
      stepId: step.id,
      toolKey: toolKeyOf(step),
      // A wait takes what it says, whoever wrote the step.
      fallbackSeconds:
        step.action.method === 'timer' ? step.action.seconds : (step.tool?.typicalDurationSeconds ?? null),
    })),
  });
  for (const e of estimates) {
    const index = plan.steps.findIndex((s) => s.id === e.stepId);
    if (index >= 0) job.setExpected(index, e.seconds, e.from, e.tailSeconds);
  }
  const now = new Date();
  job.data.etaSetAt = now.toISOString();
  const count = (from: string) => estimates.filter((e) => e.from === from).length;
  const seconds = job.remainingSeconds(now);
  job.log(
    now,
    'info',
    `${seconds === null ? 'No ETA yet' : `Expected to take about ${Math.round(seconds)} s`}: ${count('history')} step(s) timed from earlier runs on these targets, ${count('tool')} from tool estimates, ${count('none')} unknown`,
  );
};
