import { maxRisk, type PlanProposal, type ResolvedTarget, type RiskLevel } from '@opsc/contracts';
import type { ToolCatalog } from '../catalog/tool-catalog.js';
import { toolRisk } from '../validate/assess-risk.js';
import { dangerIn } from '../validate/danger.js';
import type { TargetResolver } from '../validate/validate-plan.js';

/** What the scorer looks at in one proposal: plain data, so scoring is a pure function. */
export interface Observed {
  status: PlanProposal['status'];
  /** Set when the planner under test failed and the built-in planner answered instead. */
  fallbackReason: string | null;
  hasDraft: boolean;
  tools: string[];
  steps: { tool: string; params: Record<string, unknown> }[];
  policies: Record<string, unknown>;
  /** The summary's risk, or (no summary before inputs are given) the draft's tools' risk. */
  risk: RiskLevel | null;
  approval: boolean | null;
  /** The targets every step's selector resolves to, together; or why they could not be resolved. */
  targets: { names: string[]; os: Record<string, string> } | { error: string } | null;
  missing: string[];
  text: string;
}

const textsIn = (value: unknown): string[] =>
  typeof value === 'string'
    ? [value]
    : Array.isArray(value)
      ? value.flatMap(textsIn)
      : value !== null && typeof value === 'object'
        ? Object.values(value).flatMap(textsIn)
        : [];

/** Risk and approval of a draft with no summary yet: its tools' catalog risk, flagged content destructive. */
const draftRisk = (p: PlanProposal, catalog: ToolCatalog): { risk: RiskLevel; approval: boolean } | null => {
  const draft = p.draft;
  if (!draft) return null;
  let risk: RiskLevel = 'read';
  for (const step of draft.steps) {
    const tool = catalog.get(step.tool);
    if (tool) risk = maxRisk(risk, toolRisk(tool, step.params));
    if (textsIn(step.params).some((t) => dangerIn(t).length > 0)) risk = 'destructive';
  }
  return { risk, approval: draft.policies.approval === 'required' || risk !== 'read' };
};

/** Resolves every step's selector against the inventory (the fixture's, in memory). */
const targetsOf = async (p: PlanProposal, resolve: TargetResolver): Promise<Observed['targets']> => {
  const selectors = (p.draft?.steps ?? []).flatMap((s) => (s.targets ? [s.targets] : []));
  if (selectors.length === 0) return null;
  const names = new Map<string, ResolvedTarget>();
  try {
    for (const s of selectors) for (const t of await resolve(s)) names.set(t.name, t);
  } catch (err) {
    const issues = (err as { issues?: { path: string; message: string }[] }).issues;
    return { error: issues?.map((i) => `${i.path}: ${i.message}`).join('; ') ?? (err as Error).message };
  }
  return { names: [...names.keys()].sort(), os: Object.fromEntries([...names.values()].map((t) => [t.name, t.os])) };
};

/** What a proposal says, as the scorer reads it. */
export const observe = async (p: PlanProposal, catalog: ToolCatalog, resolve: TargetResolver): Promise<Observed> => {
  const derived = p.summary ? { risk: p.summary.risk, approval: p.summary.approvalRequired } : draftRisk(p, catalog);
  return {
    status: p.status,
    fallbackReason: p.fallbackReason ?? null,
    hasDraft: p.draft !== null && p.status !== 'refused',
    tools: p.draft?.steps.map((s) => s.tool) ?? [],
    steps: p.draft?.steps.map((s) => ({ tool: s.tool, params: s.params })) ?? [],
    policies: { ...(p.draft?.policies ?? {}) },
    risk: derived?.risk ?? null,
    approval: derived?.approval ?? null,
    targets: await targetsOf(p, resolve),
    missing: p.missing.map((m) => m.path),
    text: p.text,
  };
};
