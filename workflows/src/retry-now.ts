import { Cell, MAX_RERUNS_PER_STEP, type DecisionState, type Plan } from '@opsc/contracts';
import type { JobState } from './job-state.js';

/**
 * "Retry failed targets now", the third answer to a job's mid-run question: the targets that failed
 * the step that asked (its OS variants with it) run it again inside the same run, as re-run n, an
 * execution of its own (run marker, output lines, the executor's admission; docs/retry.md).
 */

/** The targets of the phase's steps that failed there and may run it again: failed, not rolled back nor cancelled. */
const failedIn = (state: JobState, phase: readonly number[]): [number, number][] =>
  phase.flatMap((i) =>
    state.data.targetStates.flatMap((s, t): [number, number][] =>
      state.cell(i, t) === Cell.failed && s === 'failed' ? [[i, t]] : [],
    ),
  );

/** The re-run the phase's next retry is: one past the highest its steps ran. */
const nextRerun = (state: JobState, phase: readonly number[]): number =>
  1 + Math.max(0, ...phase.flatMap((i) => Object.values(state.data.reruns?.[i] ?? {})));

/** What the question offers: the step, the re-run, the targets; or why retrying is not offered. */
export const retryOffer = (
  plan: Plan,
  state: JobState,
  phase: readonly number[],
  targetNames: readonly string[],
  check: boolean,
): NonNullable<DecisionState['retry']> => {
  const stepId = plan.steps[phase[0]!]!.id;
  const rerun = nextRerun(state, phase);
  const failed = failedIn(state, phase);
  const offer = { stepId, rerun, targets: failed.map(([, t]) => targetNames[t] ?? String(t)) };
  const unavailable = check
    ? 'a check-mode job is not run again: start another check'
    : rerun > MAX_RERUNS_PER_STEP
      ? `the failed targets of this step ran it again ${MAX_RERUNS_PER_STEP} times already, the most one run allows`
      : failed.length === 0
        ? plan.policies.rollback === 'target'
          ? 'the targets that failed were rolled back as they failed (the plan rolls back per target)'
          : 'no target that failed this step can run it again (they were cancelled)'
        : null;
  return unavailable === null ? offer : { ...offer, unavailable };
};

/** Makes the phase's failed targets pending again as re-run `rerun`; returns how many. */
export const applyRetry = (state: JobState, phase: readonly number[], rerun: number): number => {
  const failed = failedIn(state, phase);
  const reruns = (state.data.reruns ??= {});
  for (const [i, t] of failed) {
    state.setCell(i, t, Cell.pending);
    state.data.targetStates[t] = 'pending';
    (reruns[i] ??= {})[t] = rerun;
  }
  return failed.length;
};

/**
 * Which question of the job this is (its `awaiting_decision` notification's number): every earlier
 * one was answered retry (continue waives the threshold, roll back ends the steps), and each phase's
 * highest re-run counts the retries answered there.
 */
export const questionNumber = (state: JobState, phases: readonly (readonly number[])[]): number =>
  1 + phases.reduce((sum, phase) => sum + nextRerun(state, phase) - 1, 0);

/** The re-run a target's next run of a step is (0: its first). */
export const rerunOf = (state: JobState, step: number, target: number): number =>
  state.data.reruns?.[step]?.[target] ?? 0;
