import type { FieldIssue, Plan, PlanSummary, RiskLevel } from '@opsc/contracts';
import { assessExecutablePlan, pinArtifacts, proposePlan, validatePlan } from '@opsc/planning';
import type { CreateJobBody } from '@opsc/contracts/api';
import { resolvedWith } from '../inventory/step-targets.js';
import { Internal, InvalidPlan } from '../errors.js';
import type { TenantPlanning } from './planning-context.js';

/*
 * `POST /api/jobs` takes a request in words, a plan draft someone edited, or an executable plan;
 * whichever it is, it becomes one executable plan through the one gate: the planner and the
 * validator, or the same risk and egress rules for a raw plan. Nothing the body says decides its risk.
 */

/** A plan ready to run, however it reached the API. */
export interface ReadyPlan {
  plan: Plan;
  summary: PlanSummary | null;
  request: string | null;
  /** The server's verdict: from the actions and the catalog, never from the body. */
  risk: RiskLevel;
  approvalRequired: boolean;
  approvalReasons: string[];
}

const invalidPlan = (message: string, issues: FieldIssue[], prefix: string): InvalidPlan =>
  new InvalidPlan(
    message,
    issues.map((i) => ({ path: i.path ? `${prefix}.${i.path}` : prefix, message: i.message })),
  );

/**
 * Turns whichever body came in into an executable plan, through the planner and the validator where
 * it applies. The plan keeps the targets its validation resolved (`resolvedWith`): the job takes
 * those, so a selector is resolved once per submission.
 */
export const readyPlan = async (context: TenantPlanning, body: CreateJobBody): Promise<ReadyPlan> => {
  const kept = (plan: Plan): Plan => (context.inventoryTargets ? resolvedWith(plan, context.inventoryTargets) : plan);
  if ('request' in body) {
    const propose = () => proposePlan(body.request, context);
    const proposal = await (context.timePlanning ? context.timePlanning(propose) : propose());
    if (proposal.status !== 'ready' || !proposal.plan) {
      const missing = proposal.missing.map((m) => ({ path: m.path, message: m.question }));
      throw invalidPlan(
        `the request does not make a runnable plan (${proposal.status}): ${proposal.refusal?.message ?? proposal.text.split('\n')[0]}`,
        [...proposal.issues, ...missing],
        'draft',
      );
    }
    return {
      plan: kept(proposal.plan),
      summary: proposal.summary,
      request: body.request,
      ...verdictOf(proposal.summary),
    };
  }
  if ('draft' in body) {
    const v = await validatePlan(body.draft, context);
    if (v.status !== 'ready' || !v.plan) {
      const missing = v.missing.map((m) => ({ path: m.path, message: m.question }));
      throw invalidPlan(
        v.status === 'invalid' ? 'the plan does not validate' : 'the plan needs more input',
        [...v.issues, ...missing],
        'draft',
      );
    }
    return { plan: kept(v.plan), summary: v.summary, request: v.draft?.request ?? null, ...verdictOf(v.summary) };
  }
  // A raw executable plan passes the same risk rules: what it says of its tools is replaced.
  const assessed = assessExecutablePlan(body.plan, context.catalog, await context.egress());
  if (assessed.issues.length) throw invalidPlan('the plan does not validate', assessed.issues, 'plan');
  // Its copies send the bytes it pins, or the newest upload's when it pins none: pinned before it is hashed.
  if (context.artifacts) {
    const pins = await pinArtifacts(assessed.plan.steps, context.artifacts, (i) => ({
      source: `steps.${i}.action.operation.source`,
      sha256: `steps.${i}.action.operation.sha256`,
    }));
    if (pins.issues.length) throw invalidPlan('the plan does not validate', pins.issues, 'plan');
  }
  return {
    plan: kept(assessed.plan),
    summary: null,
    request: null,
    risk: assessed.risk,
    approvalRequired: assessed.approvalRequired,
    approvalReasons: assessed.approvalReasons,
  };
};

/** A validated plan's verdict; a ready plan always has a summary. */
const verdictOf = (summary: PlanSummary | null): Pick<ReadyPlan, 'risk' | 'approvalRequired' | 'approvalReasons'> => {
  if (!summary) throw new Internal('a ready plan came without its summary');
  return { risk: summary.risk, approvalRequired: summary.approvalRequired, approvalReasons: summary.approvalReasons };
};
