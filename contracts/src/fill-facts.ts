import { psQuote, shQuote } from './quoting.js';

/**
 * `{{facts.<name>}}` in an undo action: what the step reported on a target (a backup path, the
 * previous version), filled in on that target when the undo runs. `|sh` and `|ps` quote it for the
 * shell that reads it. The workflow fills an undo with this, and the executor fills it again from
 * the stored facts to check what it is asked to run.
 */
const FACT = /\{\{\s*facts\.([A-Za-z][A-Za-z0-9_]*)\s*(?:\|\s*(sh|ps|text))?\s*\}\}/g;
const WHOLE_FACT = /^\{\{\s*facts\.([A-Za-z][A-Za-z0-9_]*)\s*\}\}$/;

/** A fact the template names and the step did not report. */
export class MissingFact extends Error {}

export const fillFacts = (node: unknown, facts: Record<string, string>): unknown => {
  if (typeof node === 'string') {
    const whole = WHOLE_FACT.exec(node.trim());
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
  if (Array.isArray(node)) return node.map((item) => fillFacts(item, facts));
  if (node !== null && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, fillFacts(v, facts)]));
  return node;
};
