import { proposalText, type PlannerName, type PlanProposal } from '@opsc/contracts';
import { builtinPlan, type PlannerAnswer, type PlannerRequest } from './builtin/builtin-planner.js';
import type { InventorySketch } from './builtin/entities.js';
import type { ToolCatalog } from './catalog/tool-catalog.js';
import type { EgressPolicy } from '@opsc/contracts';
import {
  validatePlan,
  withPlanEta,
  type PlanningContext,
  type PlanValidation,
  type TargetResolver,
} from './validate/validate-plan.js';
import type { ArtifactLookup } from './validate/pin-artifacts.js';

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
  /** The tenant's artifacts: the validator pins each copy's SHA-256 from them. */
  artifacts?: ArtifactLookup;
  /** The configured LLM planner, if any. */
  llm?: Planner;
  /** The ETA of the plan proposed (not of each repair on the way): see `PlanningContext.estimatePlan`. */
  estimatePlan?: PlanningContext['estimatePlan'];
}

const proposalOf = (
  planner: PlannerName,
  request: string,
  answer: PlannerAnswer,
  v: PlanValidation | null,
  catalog: ToolCatalog,
  fallbackReason?: string,
): PlanProposal => {
  const base = { planner, ...(fallbackReason && { fallbackReason }), request };
  if (answer.kind === 'refusal' || !v) {
    const refusal = answer.kind === 'refusal' ? answer : { message: "I can't plan that.", closestTools: [] };
    const unavailable = catalog.unavailableFor(request).map((t) => ` ${t.name} is not available: ${t.reason}.`);
    const p = {
      ...base,
      status: 'refused' as const,
      draft: null,
      plan: null,
      planHash: null,
      summary: null,
      missing: [],
      issues: [],
      refusal: {
        message: `${refusal.message}${unavailable.join('')}`,
        closestTools: refusal.closestTools.flatMap((n) =>
          catalog.get(n) ? [{ name: n, description: catalog.get(n)?.description ?? '' }] : [],
        ),
      },
    };
    return { ...p, text: proposalText(p) };
  }
  const summary = v.summary && {
    ...v.summary,
    warnings: [
      ...v.summary.warnings,
      ...(answer.expectedTargets && answer.expectedTargets.count !== v.summary.targets.total
        ? [
            `the request speaks of ${answer.expectedTargets.count} servers, but the selection resolves to ${v.summary.targets.total}`,
          ]
        : []),
    ],
  };
  const p = {
    ...base,
    status: v.status,
    draft: v.draft,
    plan: v.plan,
    planHash: v.planHash,
    summary,
    missing: v.missing,
    issues: v.issues,
  };
  return { ...p, text: proposalText(p, answer.notes) };
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
    validate: (draft) =>
      validatePlan(draft, {
        catalog: deps.catalog,
        resolveTargets: deps.resolveTargets,
        ...(deps.egress && { egress: deps.egress }),
        ...(deps.artifacts && { artifacts: deps.artifacts }),
      }),
  };
  let fallbackReason: string | undefined;
  if (deps.llm) {
    try {
      const answer = await deps.llm.plan(ctx);
      const validation = answer.kind === 'plan' ? await ctx.validate(answer.draft) : null;
      const timed = validation && (await withPlanEta(deps.estimatePlan, validation));
      return proposalOf(deps.llm.name, request, answer, timed, deps.catalog);
    } catch (err) {
      fallbackReason = `the ${deps.llm.name} planner failed: ${(err as Error).message}`;
    }
  }
  const answer = builtinPlan(ctx);
  const validation = answer.kind === 'plan' ? await ctx.validate(answer.draft) : null;
  const timed = validation && (await withPlanEta(deps.estimatePlan, validation));
  return proposalOf('built-in', request, answer, timed, deps.catalog, fallbackReason);
};
