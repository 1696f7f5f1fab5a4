import { psQuote, shQuote } from './quoting.js';

/*
 * The one placeholder language of tool actions: `{{name}}` is a parameter, `{{facts.name}}` what
 * the step reported on a target (a backup path, the previous version). `|sh` and `|ps` quote the
 * value for the shell that reads it (POSIX and PowerShell single quotes); `|text` is the value as
 * text where a field wants a string. The catalog checks tool files with it, the validator fills
 * parameters with it when it compiles a step, the workflow fills an undo's facts with it, and the
 * executor fills the undo again from the stored facts to check what it is asked to run.
 */

/** Every placeholder of a string: its name (`count`, `facts.backup`) and its filter. */
export const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z][A-Za-z0-9_]*)?)\s*(?:\|\s*(sh|ps|text))?\s*\}\}/g;

export type PlaceholderFilter = 'sh' | 'ps' | 'text';

export interface Placeholder {
  name: string;
  filter: PlaceholderFilter | null;
  /** The placeholder is the whole string. */
  whole: boolean;
}

const FACTS = 'facts.';

export const placeholdersIn = (text: string): Placeholder[] =>
  [...text.matchAll(PLACEHOLDER)].map((m) => ({
    name: m[1] ?? '',
    filter: (m[2] as PlaceholderFilter | undefined) ?? null,
    whole: m[0] === text.trim() && m.index === 0,
  }));

/** Walks every string of a template. */
export const walkStrings = (
  node: unknown,
  visit: (text: string, path: (string | number)[]) => void,
  path: (string | number)[] = [],
): void => {
  if (typeof node === 'string') visit(node, path);
  else if (Array.isArray(node)) node.forEach((item, i) => walkStrings(item, visit, [...path, i]));
  else if (node !== null && typeof node === 'object')
    for (const [k, v] of Object.entries(node)) walkStrings(v, visit, [...path, k]);
};

const asText = (value: unknown): string => (Array.isArray(value) ? value.map(String).join(' ') : String(value));

const quote = (value: unknown, filter: PlaceholderFilter | null): string => {
  if (filter === null || filter === 'text') return asText(value);
  if (Array.isArray(value))
    return value
      .map((v) => (filter === 'sh' ? shQuote(String(v)) : psQuote(String(v))))
      .join(filter === 'sh' ? ' ' : ', ');
  return filter === 'sh' ? shQuote(asText(value)) : psQuote(asText(value));
};

/**
 * Fills a template with parameter values. A string that is exactly one placeholder takes the value
 * with its type (a number stays a number, a list a list); a list item that is a whole placeholder
 * for a list is spliced in (argv: ['{{program}}', '{{args}}']); inside a longer string the value is
 * spliced as text. A placeholder whose value is absent (an optional parameter not given) removes
 * the object key that holds it. `facts.*` placeholders stay as written, for `fillFacts`.
 */
export const fillTemplate = (node: unknown, values: Record<string, unknown>): unknown => {
  if (typeof node === 'string') {
    const found = placeholdersIn(node);
    if (found.length === 1 && found[0]?.whole) {
      const { name, filter } = found[0];
      if (name.startsWith(FACTS)) return node;
      const value = values[name];
      return value === undefined ? undefined : filter ? quote(value, filter) : value;
    }
    return node.replace(PLACEHOLDER, (all, name: string, filter: PlaceholderFilter | undefined) =>
      name.startsWith(FACTS) ? all : quote(values[name] ?? '', filter ?? null),
    );
  }
  if (Array.isArray(node)) {
    return node.flatMap((item) => {
      const filled = fillTemplate(item, values);
      return filled === undefined ? [] : typeof item === 'string' && Array.isArray(filled) ? filled : [filled];
    });
  }
  if (node !== null && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      const filled = fillTemplate(v, values);
      if (filled !== undefined) out[k] = filled;
    }
    return out;
  }
  return node;
};

/** A fact the template names and the step did not report. */
export class MissingFact extends Error {}

/** The fact a string names when, trimmed, it is exactly one unfiltered `{{facts.x}}`. */
const wholeFact = (text: string): string | null => {
  const trimmed = text.trim();
  const [only, ...more] = placeholdersIn(trimmed);
  return only?.whole && more.length === 0 && only.filter === null && only.name.startsWith(FACTS)
    ? only.name.slice(FACTS.length)
    : null;
};

/**
 * Fills the `{{facts.x}}` of an undo with what the step reported on a target; parameter
 * placeholders are left as they are. A fact that was not reported is a `MissingFact`.
 */
export const fillFacts = (node: unknown, facts: Record<string, string>): unknown => {
  if (typeof node === 'string') {
    const whole = wholeFact(node);
    if (whole !== null) {
      const value = facts[whole];
      if (value === undefined) throw new MissingFact(whole);
      return value;
    }
    return node.replace(PLACEHOLDER, (all, name: string, filter: PlaceholderFilter | undefined) => {
      if (!name.startsWith(FACTS)) return all;
      const fact = name.slice(FACTS.length);
      const value = facts[fact];
      if (value === undefined) throw new MissingFact(fact);
      return filter === 'sh' ? shQuote(value) : filter === 'ps' ? psQuote(value) : value;
    });
  }
  if (Array.isArray(node)) return node.map((item) => fillFacts(item, facts));
  if (node !== null && typeof node === 'object')
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, fillFacts(v, facts)]));
  return node;
};
