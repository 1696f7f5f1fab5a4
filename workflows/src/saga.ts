import { Action, MissingFact, fillFacts, type Step, type UndoEntry } from '@opsc/contracts';
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
