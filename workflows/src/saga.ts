import { Action, MissingFact, fillFacts, type Step } from '@opsc/contracts';

/** One thing to undo on a target: a validated action, or why it cannot be undone (reported loudly). */
export interface UndoEntry {
  step: number;
  action?: Action;
  error?: string;
}

/**
 * What undoes `step` on one target, given what the step reported there. A completed change whose
 * undo cannot be made (a fact missing, an invalid action) still gets an entry, carrying the reason,
 * so the compensation reports it instead of skipping it quietly. A step that failed is undone only
 * when it reported everything its undo needs (it got far enough to change something); otherwise
 * there is nothing known to undo and the answer is null.
 */
export const undoEntryFor = (step: Step, index: number, facts: Record<string, string> | undefined, succeeded: boolean): UndoEntry | null => {
  if (!step.rollback) return null;
  let filled: unknown;
  try {
    filled = fillFacts(step.rollback.action, facts ?? {});
  } catch (err) {
    if (!(err instanceof MissingFact)) throw err;
    return succeeded ? { step: index, error: `cannot undo "${step.name}": the step did not report ${err.message}` } : null;
  }
  const parsed = Action.safeParse(filled);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { step: index, error: `cannot undo "${step.name}": its undo action is invalid at ${issue?.path.join('.') || 'the top'}: ${issue?.message ?? 'unknown'}` };
  }
  return { step: index, action: parsed.data };
};
