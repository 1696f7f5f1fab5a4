import type { PlannerName, PlanProposal, PlanSummary } from '@opsc/contracts';
import { builtinPlan, type PlannerAnswer, type PlannerRequest } from './builtin/builtin-planner.js';
import type { InventorySketch } from './builtin/entities.js';
import type { ToolCatalog } from './catalog/tool-catalog.js';
import type { EgressPolicy } from '@opsc/contracts';
import { validatePlan, type PlanValidation, type TargetResolver } from './validate/validate-plan.js';

/** What a planner gets: the request, the catalog, the inventory's names, and the one validator. */
export interface PlannerContext extends PlannerRequest {
  validate(draft: unknown): Promise<PlanValidation>;
}

/** A planner that may fail (a model vendor down, a reply that never validates): the built-in one answers then. */
export interface Planner {
  readonly name: PlannerName;
  plan(ctx: PlannerContext): Promise<PlannerAnswer>;
}

export interface ProposeDeps {
  catalog: ToolCatalog;
  inventory: () => Promise<InventorySketch>;
  resolveTargets: TargetResolver;
  /** The tenant's egress policy: what a planned step may reach (closed when absent). */
  egress?: () => Promise<EgressPolicy>;
  /** The configured LLM planner, if any. */
  llm?: Planner;
}

const formatEta = (seconds: number): string => {
  if (seconds < 90) return `about ${Math.max(1, Math.round(seconds))} seconds`;
  const minutes = seconds / 60;
  if (minutes < 90) return `about ${Math.round(minutes)} minutes`;
  return `about ${(minutes / 60).toFixed(1)} hours`;
};

/** The answer as a person reads it, in the seed's "AI Response" shape. */
const render = (p: Omit<PlanProposal, 'text'>, notes: string[]): string => {
  if (p.status === 'refused') {
    const near = p.refusal?.closestTools.map((t) => `${t.name} (${t.description})`).join('; ');
    return `${p.refusal?.message ?? "I can't plan that."}${near ? `\nClosest tools: ${near}` : ''}`;
  }
  const lines: string[] = [];
  const s: PlanSummary | null = p.summary;
  if (s) {
    const os = Object.entries(s.targets.byOs).filter(([, n]) => n > 0).map(([o, n]) => `${n} ${o === 'windows' ? 'Windows' : 'Linux'}`);
    lines.push(`I'll ${p.draft?.name ? `do this: ${p.draft.name}` : 'run this plan'}. This will:`);
    for (const bullet of s.bullets) lines.push(`✓ ${bullet}`);
    for (const note of notes) lines.push(`✓ ${note.charAt(0).toUpperCase()}${note.slice(1)}`);
    if (p.draft?.policies.continueOnFailure) lines.push(`✓ Continue with the other targets when one fails (stop above ${p.draft.policies.maxFailPercentage}% failed)`);
    if (p.draft && p.draft.policies.rollback !== 'none' && s.risk !== 'read') {
      lines.push(`✓ Roll back ${p.draft.policies.rollback === 'all' ? 'every target' : 'a failed target'}'s completed changes`);
    }
    lines.push('');
    lines.push(`Targets: ${s.targets.total}${os.length ? ` (${os.join(', ')})` : ''}. Risk: ${s.risk}.`);
    lines.push(`Estimated completion time: ${formatEta(s.etaSeconds)}.`);
    for (const w of s.warnings) lines.push(`⚠ ${w}`);
    lines.push(s.approvalRequired ? `Approval required: ${s.approvalReasons.join('; ')}.` : 'No approval needed: nothing is changed.');
    lines.push(s.approvalRequired ? 'Would you like me to request approval?' : 'Would you like me to proceed?');
    return lines.join('\n');
  }
  if (p.status === 'needs-input') {
    lines.push(`I can plan this, but I need to know more first:`);
    for (const m of p.missing) lines.push(`? ${m.question}`);
  } else {
    lines.push(`The plan does not validate:`);
    for (const i of p.issues) lines.push(`✗ ${i.path}: ${i.message}`);
  }
  return lines.join('\n');
};

const proposalOf = (planner: PlannerName, request: string, answer: PlannerAnswer, v: PlanValidation | null, catalog: ToolCatalog, fallbackReason?: string): PlanProposal => {
  const base = { planner, ...(fallbackReason && { fallbackReason }), request };
  if (answer.kind === 'refusal' || !v) {
    const refusal = answer.kind === 'refusal' ? answer : { message: "I can't plan that.", closestTools: [] };
    const p = {
      ...base,
      status: 'refused' as const,
      draft: null,
      plan: null,
      planHash: null,
      summary: null,
      missing: [],
      issues: [],
      refusal: { message: refusal.message, closestTools: refusal.closestTools.flatMap((n) => (catalog.get(n) ? [{ name: n, description: catalog.get(n)?.description ?? '' }] : [])) },
    };
    return { ...p, text: render(p, []) };
  }
  const summary = v.summary && {
    ...v.summary,
    warnings: [
      ...v.summary.warnings,
      ...(answer.expectedTargets && answer.expectedTargets.count !== v.summary.targets.total
        ? [`the request speaks of ${answer.expectedTargets.count} servers, but the selection resolves to ${v.summary.targets.total}`]
        : []),
    ],
  };
  const p = { ...base, status: v.status, draft: v.draft, plan: v.plan, planHash: v.planHash, summary, missing: v.missing, issues: v.issues };
  return { ...p, text: render(p, answer.notes) };
};

/**
 * Plans a request: the LLM planner when one is configured (its plan validated, with bounded
 * repairs), else, or when it fails, the built-in planner, saying which one answered and why.
 */
export const proposePlan = async (request: string, deps: ProposeDeps): Promise<PlanProposal> => {
  const inventory = await deps.inventory();
  const ctx: PlannerContext = {
    request,
    inventory,
    catalog: deps.catalog,
    // The same validator, with the same egress policy, as a draft sent on its own.
    validate: (draft) => validatePlan(draft, { catalog: deps.catalog, resolveTargets: deps.resolveTargets, ...(deps.egress && { egress: deps.egress }) }),
  };
  let fallbackReason: string | undefined;
  if (deps.llm) {
    try {
      const answer = await deps.llm.plan(ctx);
      const validation = answer.kind === 'plan' ? await ctx.validate(answer.draft) : null;
      return proposalOf(deps.llm.name, request, answer, validation, deps.catalog);
    } catch (err) {
      fallbackReason = `the ${deps.llm.name} planner failed: ${(err as Error).message}`;
    }
  }
  const answer = builtinPlan(ctx);
  const validation = answer.kind === 'plan' ? await ctx.validate(answer.draft) : null;
  return proposalOf('built-in', request, answer, validation, deps.catalog, fallbackReason);
};
