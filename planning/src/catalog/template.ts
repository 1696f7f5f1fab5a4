import { psQuote, shQuote } from '@opsc/contracts';

/**
 * `{{name}}` placeholders in tool action templates. A string that is exactly one placeholder
 * takes the value with its type (a number stays a number, a list a list); inside a longer string
 * the value is spliced as text, and must then be quoted for the shell that reads it:
 * `{{name|sh}}` POSIX single quotes, `{{name|ps}}` PowerShell single quotes. `{{name|text}}` is the
 * value as text where a field wants a string (`args: ['-c', '{{count|text}}']`). `{{facts.x}}` refers
 * to what the step reported on a target, and stays as written until that target's rollback runs.
 */
export const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z][A-Za-z0-9_]*)?)\s*(?:\|\s*(sh|ps|text))?\s*\}\}/g;

export type Filter = 'sh' | 'ps' | 'text';

export interface Placeholder {
  name: string;
  filter: Filter | null;
  /** The placeholder is the whole string. */
  whole: boolean;
}

export const placeholdersIn = (text: string): Placeholder[] =>
  [...text.matchAll(PLACEHOLDER)].map((m) => ({ name: m[1] ?? '', filter: (m[2] as Filter | undefined) ?? null, whole: m[0] === text.trim() && m.index === 0 }));


const asText = (value: unknown): string => (Array.isArray(value) ? value.map(String).join(' ') : String(value));

const quote = (value: unknown, filter: Filter | null): string => {
  if (filter === null || filter === 'text') return asText(value);
  if (Array.isArray(value)) return value.map((v) => (filter === 'sh' ? shQuote(String(v)) : psQuote(String(v)))).join(filter === 'sh' ? ' ' : ', ');
  return filter === 'sh' ? shQuote(asText(value)) : psQuote(asText(value));
};

/** Walks every string of a template. */
export const walkStrings = (node: unknown, visit: (text: string, path: (string | number)[]) => void, path: (string | number)[] = []): void => {
  if (typeof node === 'string') visit(node, path);
  else if (Array.isArray(node)) node.forEach((item, i) => walkStrings(item, visit, [...path, i]));
  else if (node !== null && typeof node === 'object') for (const [k, v] of Object.entries(node)) walkStrings(v, visit, [...path, k]);
};

/**
 * Fills a template with parameter values. A placeholder whose value is absent (an optional
 * parameter not given) removes the object key that holds it; `facts.*` placeholders are kept.
 */
export const fillTemplate = (node: unknown, values: Record<string, unknown>): unknown => {
  if (typeof node === 'string') {
    const found = placeholdersIn(node);
    if (found.length === 1 && found[0]?.whole) {
      const { name, filter } = found[0];
      if (name.startsWith('facts.')) return node;
      const value = values[name];
      return value === undefined ? undefined : filter ? quote(value, filter) : value;
    }
    return node.replace(PLACEHOLDER, (all, name: string, filter: Filter | undefined) => (name.startsWith('facts.') ? all : quote(values[name] ?? '', filter ?? null)));
  }
  if (Array.isArray(node)) {
    // A list item that is a whole placeholder for a list is spliced in: argv: ['{{program}}', '{{args}}'].
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
