import {
  PlanDraft,
  Plan,
  RISK_ORDER,
  maxRisk,
  estimateRemainingSeconds,
  sqlStatementCount,
  ONE_STATEMENT_MESSAGE,
  toFieldIssues,
  unfitTarget,
  DEFAULT_POOL,
  quietPoolIssues,
  type FieldIssue,
  type MissingInput,
  type OsFamily,
  type PlanValidation,
  type ResolvedTarget,
  type RiskLevel,
  type Step,
  type TargetSelector,
  type EgressPolicy,
  type EtaRange,
} from '@opsc/contracts';
import { planHash } from '@opsc/contracts/plan-hash';
import type { ToolCatalog } from '../catalog/tool-catalog.js';
import { compileStep, describeStep } from './compile-step.js';
import { dangerIn } from './danger.js';
import { assessStep, toolRisk } from './assess-risk.js';
import { CLOSED_EGRESS, egressProblems } from './egress-check.js';
import { toolParamsSchema } from './param-schema.js';
import { pinArtifacts, type ArtifactLookup } from './pin-artifacts.js';

/** Where a tool that takes no targets runs, as the validator says it. */
const OWN_PLACE = { executor: 'on the executor', workflow: 'in the job itself (a pause)' } as const;

/** A selector that does not resolve: its issues are relative to the selector (`group`, `targets.1`). */
export class TargetResolutionError extends Error {
  constructor(readonly issues: FieldIssue[]) {
    super(issues.map((i) => `${i.path}: ${i.message}`).join('; '));
  }
}

/** The tenant's inventory as the validator sees it: selectors in, concrete targets out. */
export type TargetResolver = (selector: TargetSelector) => Promise<ResolvedTarget[]>;

export interface PlanningContext {
  catalog: ToolCatalog;
  resolveTargets: TargetResolver;
  /** The tenant's egress policy, which URLs and hosts a step may name; closed when absent. */
  egress?: () => Promise<EgressPolicy>;
  /** The tenant's artifacts: a file-copy's SHA-256 is pinned from them. Absent (offline evaluation): nothing is pinned. */
  artifacts?: ArtifactLookup;
  /** Of these executor pools, the ones no executor polls now: a step may not run on their targets. Absent: not checked. */
  quietPools?: (pools: string[]) => Promise<ReadonlySet<string>>;
  /**
   * A ready plan's ETA from earlier runs and the platform's measured cost (the range its job starts
   * with); null when it cannot be made. Absent (offline evaluation): the tools' typical durations only.
   */
  estimatePlan?: (plan: Plan) => Promise<EtaRange | null>;
}

export type { PlanValidation };

const invalid = (
  issues: FieldIssue[],
  draft: PlanDraft | null = null,
  missing: MissingInput[] = [],
): PlanValidation => ({
  status: missing.length > 0 && issues.every((i) => missing.some((m) => m.path === i.path)) ? 'needs-input' : 'invalid',
  draft,
  plan: null,
  planHash: null,
  summary: null,
  issues,
  missing,
});

/**
 * The one validator every plan goes through, whoever wrote it (a planner, or a person editing):
 * tools exist, parameters match their schemas, targets resolve and can take each step, the
 * filled actions are valid; then the risk, the approval need, the ETA and the plan hash.
 */
export const validatePlan = async (input: unknown, ctx: PlanningContext): Promise<PlanValidation> => {
  const parsed = PlanDraft.safeParse(input);
  if (!parsed.success) return invalid(toFieldIssues(parsed.error));
  const draft = parsed.data;
  const issues: FieldIssue[] = [];
  const missing: MissingInput[] = [];
  const steps: Step[] = [];
  const everyTarget = new Map<string, ResolvedTarget>();
  const warnings: string[] = [];
  const approvalReasons: string[] = [];
  const bullets: string[] = [];
  let risk: RiskLevel = 'read';
  let etaSeconds = 0;
  let egress: EgressPolicy | undefined;

  for (const [index, step] of draft.steps.entries()) {
    const at = `steps.${index}`;
    const tool = ctx.catalog.get(step.tool);
    if (!tool) {
      const why = ctx.catalog.unavailable(step.tool);
      const near = ctx.catalog.closest(step.tool.replace(/-/g, ' ')).map((t) => t.name);
      issues.push({
        path: `${at}.tool`,
        message: why
          ? `${step.tool} is not available: ${why}`
          : `no tool named "${step.tool}"${near.length ? ` (closest: ${near.join(', ')})` : ''}`,
      });
      continue;
    }
    const params = toolParamsSchema(tool).safeParse(step.params);
    if (!params.success) {
      for (const issue of params.error.issues) {
        const path = `${at}.params${issue.path.length ? `.${issue.path.join('.')}` : ''}`;
        const name = String(issue.path[0] ?? '');
        const absent = issue.code === 'invalid_type' && step.params[name] === undefined;
        const message = absent
          ? `${tool.name} needs ${name}: ${tool.params[name]?.description ?? name}`
          : issue.message;
        issues.push({ path, message });
        if (absent)
          missing.push({
            path,
            question: `${tool.params[name]?.description ?? name}? (${tool.name}, step "${step.id}")`,
          });
      }
      continue;
    }
    const values = params.data as Record<string, unknown>;
    const places = Object.keys(tool.execution);
    let targets: ResolvedTarget[] | null = null;
    const own = places.includes('executor') ? 'executor' : places.includes('workflow') ? 'workflow' : null;
    if (own) {
      if (step.targets)
        issues.push({ path: `${at}.targets`, message: `${tool.name} runs ${OWN_PLACE[own]} and takes no targets` });
    } else if (!step.targets) {
      issues.push({ path: `${at}.targets`, message: `${tool.name} runs on targets: name a group, targets or tags` });
      // Not a wrong plan, an unfinished one: the request did not say where, so that is asked.
      missing.push({
        path: `${at}.targets`,
        question: `Which servers should step "${step.id}" (${tool.name}) act on? Name a group, targets or tags`,
      });
      continue;
    } else {
      try {
        targets = await ctx.resolveTargets(step.targets);
      } catch (err) {
        if (!(err instanceof TargetResolutionError)) throw err;
        issues.push(
          ...err.issues.map((i) => ({ path: `${at}.targets${i.path ? `.${i.path}` : ''}`, message: i.message })),
        );
        continue;
      }
      if (targets.length === 0) issues.push({ path: `${at}.targets`, message: 'selects no targets' });
      for (const target of targets) {
        const template = (tool.execution.any ?? tool.execution[target.os]) as { method?: string } | undefined;
        const problem = unfitTarget(target, { method: template?.method, tool: { name: tool.name, places } });
        if (problem) issues.push({ path: `${at}.targets`, message: problem });
      }
      if (ctx.quietPools && targets.length) {
        const quiet = await ctx.quietPools([...new Set(targets.map((t) => t.executorPool ?? DEFAULT_POOL))]);
        for (const message of quietPoolIssues(targets, quiet)) issues.push({ path: `${at}.targets`, message });
      }
    }
    const compiled = compileStep(step, index, tool, values, targets, draft.policies, ctx.catalog);
    issues.push(...compiled.issues);
    if (ctx.artifacts) {
      const pins = await pinArtifacts(compiled.steps, ctx.artifacts, () => ({
        source: `${at}.params.source`,
        sha256: `${at}.params.sha256`,
      }));
      issues.push(...pins.issues);
      // The draft keeps the pin: validating it again (submitting it) copies the same bytes.
      const sha256 = pins.pinned.find((p) => p !== undefined);
      if (sha256) step.params = { ...step.params, sha256 };
    }
    // One SQL statement per step: named on the parameter that holds the text.
    const sql = compiled.steps
      .map((s) => (s.action.method === 'database' ? s.action.query : null))
      .find((q) => q !== null && sqlStatementCount(q) > 1);
    if (sql) {
      const param = Object.entries(values).find(([, v]) => v === sql)?.[0];
      issues.push({ path: `${at}.params${param ? `.${param}` : ''}`, message: ONE_STATEMENT_MESSAGE });
    }
    // What the step would reach must pass the executor's egress policy, named on the parameter that says it.
    for (const s of compiled.steps) {
      const problems = egressProblems(s, (egress ??= await (ctx.egress?.() ?? CLOSED_EGRESS)));
      for (const p of problems) {
        const param = Object.entries(values).find(
          ([, v]) => v === p.value || (Array.isArray(v) && v.includes(p.value)),
        )?.[0];
        issues.push({ path: `${at}.params${param ? `.${param}` : ''}`, message: p.message });
      }
    }

    // The risk of the step's actions as compiled, raised by the tool: the tool's word alone never
    // makes a change read-only. Each compiled step carries the verdict, so the job runs on it.
    const flagged = new Set(
      Object.values(values).flatMap((v) =>
        typeof v === 'string' || Array.isArray(v) ? dangerIn(Array.isArray(v) ? v.join(' ') : v) : [],
      ),
    );
    let stepRisk: RiskLevel = flagged.size ? 'destructive' : toolRisk(tool, values);
    for (const s of compiled.steps) {
      const assessed = assessStep(s, tool);
      for (const reason of assessed.flagged) flagged.add(reason);
      stepRisk = maxRisk(stepRisk, assessed.risk);
    }
    for (const s of compiled.steps) if (s.tool) s.tool.risk = stepRisk;
    steps.push(...compiled.steps);
    if (flagged.size) warnings.push(`step "${step.id}" ${[...flagged].join('; ')}: review it before approving`);
    if (RISK_ORDER[stepRisk] > RISK_ORDER[risk]) risk = stepRisk;
    if (stepRisk !== 'read')
      approvalReasons.push(
        `step "${step.id}" (${tool.name}) is ${stepRisk}${flagged.size ? ' (flagged content)' : ''}`,
      );

    const count = targets?.length ?? 1;
    for (const t of targets ?? []) everyTarget.set(t.id, t);
    const where =
      targets === null
        ? own === 'workflow'
          ? ''
          : ' on the executor'
        : ` on ${describeTargets(targets, step.targets)}`;
    const undo = tool.rollback ? `; rollback: ${tool.rollback.tool}` : stepRisk === 'read' ? '' : '; no rollback';
    bullets.push(`${step.name ?? describeStep(tool, values)}${where} (${stepRisk}${undo})`);
    // The job's own rule (the workflow's ETA), from the catalog's typical time for every target (a wait: its seconds).
    const typical = compiled.steps[0]?.tool?.typicalDurationSeconds ?? tool.typicalDurationSeconds;
    etaSeconds +=
      estimateRemainingSeconds(
        [{ expectedSeconds: typical, tailSeconds: typical, pending: count, runningElapsed: [] }],
        draft.policies.maxParallel,
        0,
      ) ?? 0;
  }
  if (issues.length) return invalid(issues, draft, missing);

  const approvalRequired = draft.policies.approval === 'required' || approvalReasons.length > 0;
  if (draft.policies.approval === 'required') approvalReasons.unshift('the plan asks for approval');
  const plan = Plan.parse({
    name: draft.name,
    ...(draft.title && { title: draft.title }),
    steps,
    policies: {
      continueOnFailure: draft.policies.continueOnFailure,
      maxAttempts: draft.policies.retries,
      maxParallel: draft.policies.maxParallel,
      maxFailPercentage: draft.policies.maxFailPercentage,
      onFailThreshold: draft.policies.onFailThreshold,
      rollback: draft.policies.rollback,
      approvalRequired,
    },
  });
  const byOs: Record<OsFamily, number> = { linux: 0, windows: 0 };
  for (const t of everyTarget.values()) byOs[t.os] += 1;
  return withPlanEta(ctx.estimatePlan, {
    status: 'ready',
    draft,
    plan,
    planHash: planHash(plan),
    summary: {
      bullets,
      targets: { total: everyTarget.size, byOs },
      risk,
      approvalRequired,
      approvalReasons,
      etaSeconds: Math.round(etaSeconds),
      warnings,
    },
    issues: [],
    missing: [],
  });
};

/**
 * A ready validation with the range its job will start with (`PlanSummary.eta`), where an estimator
 * is given. An estimate that fails, or none, leaves the typical durations' figure alone: it never
 * fails the validation.
 */
export const withPlanEta = async (
  estimate: PlanningContext['estimatePlan'],
  v: PlanValidation,
): Promise<PlanValidation> => {
  if (!estimate || v.status !== 'ready' || !v.plan || !v.summary) return v;
  const eta = await estimate(v.plan).catch(() => null);
  return eta ? { ...v, summary: { ...v.summary, eta } } : v;
};

const describeTargets = (targets: ResolvedTarget[], selector: TargetSelector | undefined): string => {
  const os = (['windows', 'linux'] as const)
    .map((o) => [o, targets.filter((t) => t.os === o).length] as const)
    .filter(([, n]) => n > 0)
    .map(([o, n]) => `${n} ${o === 'windows' ? 'Windows' : 'Linux'}`)
    .join(' and ');
  const noun = targets.length === 1 ? 'target' : 'targets';
  if (selector?.group) return `${os} ${noun} in group '${selector.group}'`;
  if (targets.length <= 3) return `${targets.map((t) => t.name).join(', ')}`;
  return `${os} ${noun}`;
};
