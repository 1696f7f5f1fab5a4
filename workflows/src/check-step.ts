import {
  CheckCode,
  ErrorType,
  actionRisk,
  toolKeyOf,
  checkVerdictOf,
  describeCheck,
  type Plan,
  type RunJobInput,
  type Step,
  type TargetRef,
} from '@opsc/contracts';
import type { JobState } from './job-state.js';
import type { RecordsQueue } from './records-queue.js';
import { describeOutcome, runWhenRecorded, type Outcome } from './run-step.js';

/**
 * Check mode's policies: every step is checked on every target (a check that fails stops nothing),
 * nothing is undone, no one is asked. The steps and their targets are the plan's.
 */
export const checkModePlan = (plan: Plan): Plan => ({
  ...plan,
  policies: {
    ...plan.policies,
    continueOnFailure: true,
    maxFailPercentage: 100,
    onFailThreshold: 'abort',
    rollback: 'none',
    approvalRequired: false,
  },
});

/** What a step's check found on one target: the outcome as a step's, its `CheckCode`, and a line for the log. */
export interface CheckRun {
  outcome: Outcome;
  code: CheckCode;
  text: string;
}

/**
 * Runs a step's check on one target in place of its change: a probe is the step's read-only check
 * operation on the executor (the gate admits nothing else of a check-mode job); a step whose effect
 * cannot be known, or that declares no check, runs nothing and is reported as one that would run;
 * a step that only reads (or waits) is reported as no change, without running.
 */
export const runCheck = async (
  step: Step,
  target: TargetRef,
  input: RunJobInput,
  maxAttempts: number,
  state: Pick<JobState, 'log'>,
): Promise<CheckRun> => {
  const { check } = step;
  if (check?.kind === 'probe') {
    const outcome = await runWhenRecorded(
      { stepId: step.id, action: check.action, timeoutSeconds: step.timeoutSeconds, maxAttempts },
      target,
      input,
      `The check of "${step.name}"`,
      state,
    );
    if (!outcome.ok) return { outcome, code: CheckCode.none, text: `check failed: ${describeOutcome(outcome)}` };
    const facts = outcome.output?.kind === 'command' ? outcome.output.facts : undefined;
    const verdict = checkVerdictOf(facts);
    return { outcome, code: CheckCode[verdict], text: describeCheck(verdict, facts) };
  }
  const outcome: Outcome = { ok: true, durationMs: 0 };
  if (check) return { outcome, code: CheckCode['would-run'], text: `would run: ${check.reason}` };
  const { action } = step;
  if (action.method === 'timer')
    return { outcome, code: CheckCode['no-change'], text: `no change: a ${action.seconds} s wait` };
  return actionRisk(action) === 'read'
    ? { outcome, code: CheckCode['no-change'], text: 'no change: the step only reads (not run in check mode)' }
    : { outcome, code: CheckCode['would-run'], text: 'would run: the step declares no check' };
};

/** One work item of a check-mode job: the step's check on one target, its verdict in the grid, the log and the record. */
export const checkOnTarget = async (
  stepIndex: number,
  t: number,
  plan: Plan,
  target: TargetRef,
  input: RunJobInput,
  state: JobState,
  queue: RecordsQueue,
): Promise<void> => {
  const step = plan.steps[stepIndex]!;
  state.startTarget(stepIndex, t, new Date());
  const maxAttempts = step.maxAttempts ?? plan.policies.maxAttempts;
  const { outcome, code, text } = await runCheck(step, target, input, maxAttempts, state);
  // The `CheckCode` of what the step's check found on the target, in check mode's grid.
  const row = state.data.checks?.[stepIndex];
  if (row !== undefined) state.data.checks![stepIndex] = row.slice(0, t) + code + row.slice(t + 1);
  const cancelled = outcome.error?.type === ErrorType.Cancelled;
  state.finishTarget(stepIndex, t, outcome.ok, cancelled, outcome.durationMs, text, new Date());
  // Kept apart from the change's durations: a check's time says nothing of the change's.
  queue.verdict(step.id, `check:${toolKeyOf(step)}`, target, outcome);
};
