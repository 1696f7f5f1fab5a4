import type { PlanDraft, TargetSelector } from '@opsc/contracts';
import type { ToolSummary } from '@opsc/contracts/api';

/*
 * The edits the plan editor makes to a draft, as pure functions: each returns the new draft and,
 * when steps move, where each old step went (`order[old] = new`, null when removed) so the issues
 * of the last check stay on their steps until the next one answers.
 */

export type DraftStep = PlanDraft['steps'][number];
export interface Edited {
  draft: PlanDraft;
  order?: (number | null)[];
}

/** Whether a step acts on inventory targets: its tool says; for a tool not in the catalog, whether it names some. */
export const takesTargets = (step: DraftStep, tool: ToolSummary | undefined): boolean =>
  tool ? !tool.places.includes('executor') : step.targets !== undefined;

/** A selector without empty criteria, its keys in one order: what is sent and what is compared. */
export const cleanSelector = (s: TargetSelector): TargetSelector => ({
  ...(s.group && { group: s.group }),
  ...(s.targets?.length && { targets: s.targets }),
  ...(s.tags?.length && { tags: s.tags }),
  ...(s.os && { os: s.os }),
});

export const sameSelector = (a: TargetSelector | undefined, b: TargetSelector | undefined): boolean =>
  JSON.stringify(a && cleanSelector(a)) === JSON.stringify(b && cleanSelector(b));

/** Indexes of the steps that act on targets. */
export const targetedSteps = (draft: PlanDraft, tools: ReadonlyMap<string, ToolSummary>): number[] =>
  draft.steps.flatMap((step, i) => (takesTargets(step, tools.get(step.tool)) ? [i] : []));

/** Whether two or more steps act on targets, all on the same ones: the plan was made "for all steps at once". */
export const sharesTargets = (draft: PlanDraft, tools: ReadonlyMap<string, ToolSummary>): boolean => {
  const steps = targetedSteps(draft, tools).map((i) => draft.steps[i]);
  return steps.length > 1 && steps.every((s) => s?.targets && sameSelector(s.targets, steps[0]?.targets));
};

export const setStep = (draft: PlanDraft, index: number, patch: (s: DraftStep) => DraftStep): PlanDraft => ({
  ...draft,
  steps: draft.steps.map((s, i) => (i === index ? patch(s) : s)),
});

/** The steps at `indexes` act on `selector`; `undefined` takes their targets away. */
export const setTargets = (
  draft: PlanDraft,
  indexes: readonly number[],
  selector: TargetSelector | undefined,
): PlanDraft => ({
  ...draft,
  steps: draft.steps.map((s, i) => {
    if (!indexes.includes(i)) return s;
    if (selector === undefined) {
      const { targets: _dropped, ...rest } = s;
      return rest;
    }
    return { ...s, targets: cleanSelector(selector) };
  }),
});

/** Sets (or, with `undefined`, removes) one key of an object, keeping the others. */
export const withKey = <T extends object>(object: T, key: string, value: unknown): T => {
  const next = { ...object } as Record<string, unknown>;
  if (value === undefined) delete next[key];
  else next[key] = value;
  return next as T;
};

/** Moves step `index` by `delta` places; null when it would leave the list. */
export const moveStep = (draft: PlanDraft, index: number, delta: -1 | 1): Edited | null => {
  const to = index + delta;
  if (index < 0 || index >= draft.steps.length || to < 0 || to >= draft.steps.length) return null;
  const steps = [...draft.steps];
  const [moved] = steps.splice(index, 1);
  if (!moved) return null;
  steps.splice(to, 0, moved);
  const order = draft.steps.map((_, i) => (i === index ? to : i === to ? index : i));
  return { draft: { ...draft, steps }, order };
};

export const removeStep = (draft: PlanDraft, index: number): Edited => ({
  draft: { ...draft, steps: draft.steps.filter((_, i) => i !== index) },
  order: draft.steps.map((_, i) => (i === index ? null : i > index ? i - 1 : i)),
});

/** A step id not yet in the draft, from the tool's name: `service-restart-2`. */
export const newStepId = (draft: PlanDraft, tool: string): string => {
  const base =
    tool
      .replace(/[^A-Za-z0-9_-]/g, '-')
      .replace(/^[^A-Za-z0-9]+/, '')
      .slice(0, 50) || 'step';
  const taken = new Set(draft.steps.map((s) => s.id));
  for (let n = 1; ; n += 1) {
    const id = n === 1 ? base : `${base}-${n}`;
    if (!taken.has(id)) return id;
  }
};

/**
 * A new last step running `tool`, with no parameters yet (the check asks for the required ones on
 * their fields) and, when it acts on targets, `targets`: the shared ones, or the previous step's.
 */
export const addStep = (draft: PlanDraft, tool: ToolSummary, targets: TargetSelector | undefined): Edited => {
  const step: DraftStep = { id: newStepId(draft, tool.name), tool: tool.name, params: {} };
  if (!tool.places.includes('executor')) step.targets = cleanSelector(targets ?? {});
  return { draft: { ...draft, steps: [...draft.steps, step] } };
};

/** The targets a new step gets: the last step's that acts on targets, else none yet. */
export const lastTargets = (draft: PlanDraft, tools: ReadonlyMap<string, ToolSummary>): TargetSelector | undefined =>
  targetedSteps(draft, tools)
    .map((i) => draft.steps[i]?.targets)
    .filter((t) => t !== undefined)
    .at(-1);

/** A comma list as typed, as names: trimmed, empty ones left out. */
export const splitList = (text: string): string[] =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
