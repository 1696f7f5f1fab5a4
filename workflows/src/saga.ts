import {
  Action,
  MissingFact,
  actionRisk,
  fillFacts,
  type ActionOutput,
  type JobResume,
  type Plan,
  type Step,
  type TargetRef,
  type UndoEntry,
} from '@opsc/contracts';
import { changeOf } from './change-of.js';
import type { Outcome } from './run-step.js';

/** A step's undo action with the facts its run reported filled in; throws `MissingFact` for a fact it did not report. */
const fillUndo = (rollback: NonNullable<Step['rollback']>, facts: Record<string, string>): unknown =>
  fillFacts(rollback.action, facts);

/**
 * What undoes `step` on one target, given how it went there (see `changeOf`):
 * - a run that changed nothing (refused, failed before its change, or a no-op) has nothing to undo;
 * - a change gets its undo, filled with what the step reported; one that cannot be made (a fact
 *   missing, an invalid action) still gets an entry carrying the reason, so the compensation
 *   reports the host half-changed instead of calling it rolled back;
 * - a failed run that ended without reporting what its undo needs never got to its change (each
 *   change reports them before or as it makes it): nothing to undo;
 * - a run whose result never came back may have changed the host: its undo runs if it can be made
 *   without facts, else the entry says the host may be half-changed.
 */
export const undoEntryFor = (step: Step, index: number, outcome: Outcome): UndoEntry | null => {
  if (!step.rollback) return null;
  const change = changeOf(step.action, outcome);
  if (change === 'unchanged') return null;
  const facts = outcome.output?.kind === 'command' ? (outcome.output.facts ?? {}) : {};
  let filled: unknown;
  try {
    filled = fillUndo(step.rollback, facts);
  } catch (err) {
    if (!(err instanceof MissingFact)) throw err;
    if (change === 'ran') return null;
    if (change === 'unknown') {
      const why = outcome.error ? `${outcome.error.type}: ${outcome.error.message}` : 'no result';
      return {
        step: index,
        error: `cannot undo "${step.name}": it may have changed the host, but its result never came back (${why}), and its undo needs ${err.message}`,
      };
    }
    return { step: index, error: `cannot undo "${step.name}": the step did not report ${err.message}` };
  }
  const parsed = Action.safeParse(filled);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      step: index,
      error: `cannot undo "${step.name}": its undo action is invalid at ${issue?.path.join('.') || 'the top'}: ${issue?.message ?? 'unknown'}`,
    };
  }
  return { step: index, action: parsed.data };
};

/**
 * A retry job's starting undo stacks: for each target, what undoes the steps it carries from the
 * jobs before (`RunJobInput.resume`), built from the facts those jobs recorded exactly as their own
 * runs built them (a command's facts, an HTTP step's none), so the executor's gate, which fills the
 * undo from the same recorded row, admits it. Oldest first, like a stack the job built itself.
 */
export const carriedUndo = (
  plan: Plan,
  resume: JobResume,
  targets: readonly TargetRef[],
): Record<string, UndoEntry[]> => {
  const out: Record<string, UndoEntry[]> = {};
  for (const [t, target] of targets.entries()) {
    const carried = resume.targets[target.id];
    if (!carried) continue;
    for (const [i, step] of plan.steps.entries()) {
      const done = carried.done[step.id];
      if (!done || i >= carried.start || actionRisk(step.action) === 'read') continue;
      const output: ActionOutput | undefined =
        step.action.method === 'http'
          ? undefined
          : {
              kind: 'command',
              exitCode: 0,
              signal: null,
              stdout: '',
              stderr: '',
              stdoutTruncated: false,
              stderrTruncated: false,
              durationMs: 0,
              facts: done.facts ?? {},
            };
      const entry = undoEntryFor(step, i, { ok: true, ...(output && { output }), durationMs: 0 });
      if (entry) (out[t] ??= []).push(entry);
    }
  }
  return out;
};
