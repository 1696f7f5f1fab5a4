import type { FieldIssue } from './api/errors.js';
import { InventoryName } from './inventory.js';
import { PARAM_MENTION, PARAM_REF, type TemplateParam, type TemplatePlan } from './template-schema.js';

/*
 * Filling a template is total: every parameter is checked against its schema (errors name
 * `params.<name>`), every placeholder is filled or its key removed, and nothing of a value is read
 * as a placeholder again. The filled draft then goes through the plan validator like any other,
 * so its shell and SQL rules apply to the values too.
 */

const fullMatch = (pattern: string, text: string): boolean => {
  try {
    return new RegExp(`^(?:${pattern})$`).test(text);
  } catch {
    return false;
  }
};

const MAX_TEXT = 4_000;

/** Why a string does not fit the parameter, or null. */
const textProblem = (p: TemplateParam, text: string): string | null => {
  if (text.length > (p.maxLength ?? MAX_TEXT)) return `is longer than ${p.maxLength ?? MAX_TEXT} characters`;
  // A value is text, never template syntax: nothing in it is filled again.
  if (text.includes('{{') || text.includes('}}')) return `may not contain "{{" or "}}"`;
  if (p.enum && !p.enum.includes(text)) return `must be one of: ${p.enum.join(', ')}`;
  const failed = (p.patterns ?? []).find((re) => !fullMatch(re, text));
  if (failed !== undefined) return `must match ${failed}`;
  if ((p.type === 'group' || p.type === 'target-list') && !InventoryName.safeParse(text).success)
    return `is not an inventory name (letters, digits, spaces and . _ ' ( ) -)`;
  return null;
};

/** Why a value does not fit the parameter's schema, or null when it does. */
export const paramValueProblem = (p: TemplateParam, value: unknown): string | null => {
  switch (p.type) {
    case 'integer': {
      const n = typeof value === 'string' && /^-?\d{1,15}$/.test(value.trim()) ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isSafeInteger(n)) return 'must be a whole number';
      if (p.min !== undefined && n < p.min) return `must be at least ${p.min}`;
      if (p.max !== undefined && n > p.max) return `must be at most ${p.max}`;
      return null;
    }
    case 'boolean':
      return typeof value === 'boolean' ? null : 'must be true or false';
    case 'string':
    case 'group':
      if (typeof value !== 'string') return 'must be text';
      if (value.trim() === '') return 'must not be empty';
      return textProblem(p, value);
    case 'string-list':
    case 'target-list': {
      if (!Array.isArray(value)) return 'must be a list of text';
      if (value.length === 0) return 'must name at least one item';
      if (value.length > 1_000) return 'may have at most 1000 items';
      for (const [i, item] of value.entries()) {
        if (typeof item !== 'string' || item.trim() === '') return `item ${i + 1} must be non-empty text`;
        const problem = textProblem(p, item);
        if (problem) return `item ${i + 1} ${problem}`;
      }
      return null;
    }
  }
};

/** The value as the step takes it: an integer given as text becomes a number. */
const normalised = (p: TemplateParam, value: unknown): unknown =>
  p.type === 'integer' && typeof value === 'string' ? Number(value) : value;

export interface FilledTemplate {
  /** The plan draft, every placeholder filled; null when an issue stops it. */
  draft: unknown;
  issues: FieldIssue[];
  /** The values used (given, or defaults), by parameter. */
  values: Record<string, unknown>;
}

/** The values of a run: given or defaulted, each checked; issues name `params.<name>`. */
export const checkRunValues = (
  parameters: readonly TemplateParam[],
  given: Record<string, unknown>,
): { values: Record<string, unknown>; issues: FieldIssue[] } => {
  const issues: FieldIssue[] = [];
  const known = new Set(parameters.map((p) => p.name));
  for (const name of Object.keys(given).slice(0, 100))
    if (!known.has(name))
      issues.push({ path: `params.${name.slice(0, 63)}`, message: 'is not a parameter of this template' });
  const values: Record<string, unknown> = {};
  for (const p of parameters) {
    const raw =
      Object.hasOwn(given, p.name) && given[p.name] !== null && given[p.name] !== '' ? given[p.name] : p.default;
    if (raw === undefined) {
      if (p.required) issues.push({ path: `params.${p.name}`, message: 'is required' });
      continue;
    }
    const problem = paramValueProblem(p, raw);
    if (problem) issues.push({ path: `params.${p.name}`, message: problem });
    else values[p.name] = normalised(p, raw);
  }
  return { values, issues };
};

/** Fills one node: a whole `{{params.x}}` string takes the value (undefined: the key goes). */
const fill = (node: unknown, values: Record<string, unknown>, left: string[], path: string): unknown => {
  if (typeof node === 'string') {
    const ref = PARAM_REF.exec(node);
    if (ref) return values[ref[1] ?? ''];
    if (PARAM_MENTION.test(node)) left.push(path);
    return node;
  }
  if (Array.isArray(node)) return node.map((item, i) => fill(item, values, left, `${path}.${i}`));
  if (node !== null && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      const filled = fill(v, values, left, `${path}.${k}`);
      if (filled !== undefined) out[k] = filled;
    }
    return out;
  }
  return node;
};

/**
 * Fills a template plan with a run's values. A step whose targets are a parameter gets a selector:
 * `{ group }` for a group parameter, `{ targets }` for a list of target names. Any placeholder that
 * is not a whole string of a known parameter is an issue; the answer holds none.
 */
export const fillTemplatePlan = (
  plan: TemplatePlan,
  parameters: readonly TemplateParam[],
  given: Record<string, unknown>,
): FilledTemplate => {
  const { values, issues } = checkRunValues(parameters, given);
  if (issues.length) return { draft: null, issues, values };
  const byName = new Map(parameters.map((p) => [p.name, p]));
  const left: string[] = [];
  const steps = plan.steps.map((step, i) => {
    const { targets, ...rest } = step;
    const filled = fill(rest, values, left, `plan.steps.${i}`) as Record<string, unknown>;
    if (typeof targets === 'string') {
      const name = PARAM_REF.exec(targets)?.[1] ?? '';
      const p = byName.get(name);
      const value = values[name];
      if (!p || value === undefined) left.push(`plan.steps.${i}.targets`);
      else filled.targets = p.type === 'group' ? { group: value } : { targets: value };
    } else if (targets !== undefined) {
      filled.targets = fill(targets, values, left, `plan.steps.${i}.targets`);
    }
    return filled;
  });
  const { steps: _steps, ...top } = plan;
  const draft = { ...(fill(top, values, left, 'plan') as Record<string, unknown>), steps };
  if (left.length)
    return {
      draft: null,
      issues: left.map((path) => ({ path, message: 'holds a template placeholder no parameter fills' })),
      values,
    };
  return { draft, issues: [], values };
};
