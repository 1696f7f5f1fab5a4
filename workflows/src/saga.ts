import { Action, psQuote, shQuote, type Step } from '@opsc/contracts';

/** One thing to undo on a target: a validated action, or why it cannot be undone (reported loudly). */
export interface UndoEntry {
  step: number;
  action?: Action;
  error?: string;
}

const FACT = /\{\{\s*facts\.([A-Za-z][A-Za-z0-9_]*)\s*(?:\|\s*(sh|ps|text))?\s*\}\}/g;

class MissingFact extends Error {}

const fill = (node: unknown, facts: Record<string, string>): unknown => {
  if (typeof node === 'string') {
    const whole = /^\{\{\s*facts\.([A-Za-z][A-Za-z0-9_]*)\s*\}\}$/.exec(node.trim());
    if (whole) {
      const value = facts[whole[1] ?? ''];
      if (value === undefined) throw new MissingFact(whole[1]);
      return value;
    }
    return node.replace(FACT, (_all, name: string, filter: string | undefined) => {
      const value = facts[name];
      if (value === undefined) throw new MissingFact(name);
      return filter === 'sh' ? shQuote(value) : filter === 'ps' ? psQuote(value) : value;
    });
  }
  if (Array.isArray(node)) return node.map((item) => fill(item, facts));
  if (node !== null && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, fill(v, facts)]));
  return node;
};

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
    filled = fill(step.rollback.action, facts ?? {});
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
