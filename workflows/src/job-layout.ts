import { EXECUTOR_TARGET, type RunJobInput, type TargetRef } from '@opsc/contracts';

/** The job's columns: its targets (and the executor's own, if a step has no targets), and which of them each step acts on. */
export interface JobLayout {
  /** The job's targets, then the executor if a step runs on it. */
  targets: TargetRef[];
  /** For each step, the indexes into `targets` it acts on. */
  stepTargets: number[][];
  /** The executor's column, or -1. */
  executorIndex: number;
}

/** Lays the job's input out in columns; throws a `RangeError` for a step that names a target the job does not have. */
export const layOut = (input: RunJobInput): JobLayout => {
  const targets = [...input.targets];
  // Steps without targets run on the executor itself: it gets a column of its own.
  let executorIndex = -1;
  if (input.plan.steps.some((s) => !s.targets)) {
    executorIndex = targets.length;
    targets.push(EXECUTOR_TARGET);
  }
  const stepTargets = input.plan.steps.map((step) => {
    if (!step.targets) return [executorIndex];
    const indexes = input.stepTargets[step.id] ?? [];
    for (const i of indexes)
      if (!targets[i]) throw new RangeError(`step ${step.id} refers to target #${i}, which the job does not have`);
    return indexes;
  });
  return { targets, stepTargets, executorIndex };
};
