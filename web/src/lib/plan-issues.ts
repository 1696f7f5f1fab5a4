import type { PlanDraft } from '@opsc/contracts';
import type { FieldIssue } from '@opsc/contracts/api';

/*
 * Where the editor shows each validation issue. The validator names fields by path into the draft
 * (`steps.2.targets.group`, `steps.0.params.service`, `policies.maxParallel`); each path maps to the
 * key of one control or group of controls the editor renders, or to nothing, in which case the card
 * lists it with its path in words. Nothing is ever "marked below" without a mark.
 */

/** The key under which the editor shows the targets every step shares, when it edits them at once. */
export const SHARED_TARGETS = 'all.targets';

/** Keys of the rollout policies the editor has a control for. */
export const POLICY_KEYS = [
  'maxParallel',
  'continueOnFailure',
  'maxFailPercentage',
  'onFailThreshold',
  'rollback',
  'timeoutSeconds',
  'retries',
  'approval',
] as const;

const STEP_FIELDS = new Set(['tool', 'name', 'timeoutSeconds', 'retries']);
const SELECTOR_FIELDS = new Set(['group', 'targets', 'tags', 'os']);

export interface FieldLayout {
  /** Steps whose targets are edited together under `SHARED_TARGETS`, by index; empty when each step has its own. */
  shared: ReadonlySet<number>;
}

/** The field key that shows the issue at `path`, or null when no control of the editor stands for it. */
export const fieldOf = (path: string, draft: PlanDraft, layout: FieldLayout): string | null => {
  const parts = path.split('.');
  const [head, second, third, fourth] = parts;
  if (path === 'name') return 'name';
  if (head === 'policies') {
    if (parts.length === 1) return 'policies';
    return (POLICY_KEYS as readonly string[]).includes(second ?? '') ? `policies.${second}` : 'policies';
  }
  if (head !== 'steps') return null;
  if (parts.length === 1) return 'steps';
  if (!/^\d+$/.test(second ?? '') || Number(second) >= draft.steps.length) return null;
  const at = `steps.${second}`;
  if (parts.length === 2 || third === 'id') return at;
  if (third === 'params') return fourth ? `${at}.params.${fourth}` : `${at}.params`;
  if (third === 'targets') {
    const base = layout.shared.has(Number(second)) ? SHARED_TARGETS : `${at}.targets`;
    if (fourth === undefined) return base;
    return SELECTOR_FIELDS.has(fourth) ? `${base}.${fourth}` : base;
  }
  if (STEP_FIELDS.has(third ?? '') && parts.length === 3) return `${at}.${third}`;
  return null;
};

const SELECTOR_WORDS: Record<string, string> = {
  group: 'group',
  targets: 'target names',
  tags: 'tags',
  os: 'operating system',
};
const POLICY_WORDS: Record<string, string> = {
  maxParallel: 'targets at once',
  continueOnFailure: 'continue when a target fails',
  maxFailPercentage: 'stop above % failed',
  onFailThreshold: 'what happens above that share',
  rollback: 'roll back',
  timeoutSeconds: 'step timeout',
  retries: 'attempts',
  approval: 'approval',
  decisionTimeoutSeconds: 'decision timeout',
};

/** A validation path as a person reads it: `steps.2.targets.group` is "step 3 (restart-nginx): targets, group". */
export const pathInWords = (path: string, draft: PlanDraft | null): string => {
  if (path === '(root)' || path === '') return 'the plan as a whole';
  const parts = path.split('.');
  const [head, ...rest] = parts;
  if (head === 'name') return 'the plan name';
  if (head === 'request') return 'the request';
  if (head === 'policies')
    return rest.length ? `rollout policies: ${POLICY_WORDS[rest[0] ?? ''] ?? rest.join(' ')}` : 'rollout policies';
  if (head !== 'steps') return parts.join(' › ');
  if (rest.length === 0) return 'the list of steps';
  const [index, field, ...more] = rest;
  const n = Number(index);
  const step = Number.isInteger(n) ? draft?.steps[n] : undefined;
  const title = Number.isInteger(n) ? `step ${n + 1}${step ? ` (${step.name ?? step.id})` : ''}` : `step ${index}`;
  if (field === undefined) return title;
  if (field === 'params')
    return more.length
      ? `${title}: parameter ${more[0]}${more.length > 1 ? ` › ${more.slice(1).join(' › ')}` : ''}`
      : `${title}: parameters`;
  if (field === 'targets') {
    if (!more.length) return `${title}: targets`;
    const [what, item] = more;
    const words = SELECTOR_WORDS[what ?? ''] ?? what;
    return `${title}: targets, ${words}${item !== undefined && /^\d+$/.test(item) ? ` (item ${Number(item) + 1})` : ''}`;
  }
  const fieldWords: Record<string, string> = {
    tool: 'tool',
    id: 'step id',
    name: 'step name',
    timeoutSeconds: 'timeout',
    retries: 'attempts',
  };
  return `${title}: ${[fieldWords[field] ?? field, ...more].join(' › ')}`;
};

/** The issues of a validation laid out: messages by field key, and those no field stands for. */
export interface PlacedIssues {
  byField: Map<string, string[]>;
  general: { path: string; words: string; message: string }[];
}

/** The messages of an answer's issues by path into the draft, without the API's `plan.` / `draft.` prefix. */
export const issuesByPath = (issues: readonly FieldIssue[] | undefined): Map<string, string[]> => {
  const map = new Map<string, string[]>();
  for (const issue of issues ?? []) {
    const path = issue.path.replace(/^(plan|draft)\./, '');
    map.set(path, [...(map.get(path) ?? []), issue.message]);
  }
  return map;
};

export const placeIssues = (
  issues: ReadonlyMap<string, readonly string[]>,
  draft: PlanDraft,
  layout: FieldLayout,
): PlacedIssues => {
  const byField = new Map<string, string[]>();
  const general: PlacedIssues['general'] = [];
  for (const [path, messages] of issues) {
    const field = fieldOf(path, draft, layout);
    if (field === null) {
      for (const message of messages) general.push({ path, words: pathInWords(path, draft), message });
      continue;
    }
    const list = byField.get(field) ?? [];
    // Steps sharing their targets fail alike ("no such group" once per step): say it once.
    for (const m of messages) if (!list.includes(m)) list.push(m);
    byField.set(field, list);
  }
  return { byField, general };
};

/**
 * Issues keyed by path moved with their steps: `order[old] = new`, or null for a removed step, so
 * an issue stays on its step while the plan is checked again after a move, removal or addition.
 */
export const reindexIssues = <T>(issues: ReadonlyMap<string, T>, order: readonly (number | null)[]): Map<string, T> => {
  const out = new Map<string, T>();
  for (const [path, value] of issues) {
    const match = /^steps\.(\d+)(\..*)?$/.exec(path);
    if (!match) {
      out.set(path, value);
      continue;
    }
    const moved = order[Number(match[1])];
    if (moved === null || moved === undefined) continue;
    out.set(`steps.${moved}${match[2] ?? ''}`, value);
  }
  return out;
};
