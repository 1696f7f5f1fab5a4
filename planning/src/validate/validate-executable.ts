import {
  Action,
  actionRisk,
  maxRisk,
  ONE_STATEMENT_MESSAGE,
  sqlStatementCount,
  powerOperation,
  powerStepProblems,
  type EgressPolicy,
  type FieldIssue,
  type Plan,
  type RiskLevel,
  type Step,
} from '@opsc/contracts';
import type { ToolCatalog } from '../catalog/tool-catalog.js';
import { assessStep } from './assess-risk.js';
import { derivedCheck, sameJson, typicalSeconds } from './compile-step.js';
import { dangerIn } from './danger.js';
import { CLOSED_EGRESS, egressProblems } from './egress-check.js';

/** The server's verdict on an executable plan someone wrote by hand. */
export interface ExecutableAssessment {
  /** The plan as it will run: each tool's risk and typical duration are the catalog's, not the body's. */
  plan: Plan;
  risk: RiskLevel;
  approvalRequired: boolean;
  approvalReasons: string[];
  warnings: string[];
  issues: FieldIssue[];
}

/** A value as written, holding a fact the step reports on its target (`{{facts.backup}}`): known only then. */
const FACT = /\{\{\s*facts\.[A-Za-z][A-Za-z0-9_]*/;
const valueAt = (root: unknown, path: readonly PropertyKey[]): unknown =>
  path.reduce<unknown>(
    (node, key) =>
      node !== null && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key] : undefined,
    root,
  );
const textsOf = (value: unknown): string[] =>
  typeof value === 'string'
    ? [value]
    : value !== null && typeof value === 'object'
      ? Object.values(value).flatMap(textsOf)
      : [];

/** What a step's undo would run, judged now: it runs on the targets, unattended, during a compensation. */
const assessUndo = (
  step: Step,
  index: number,
  catalog: ToolCatalog,
  egress: EgressPolicy,
): { risk: RiskLevel; flagged: string[]; issues: FieldIssue[] } => {
  const undo = step.rollback;
  if (!undo) return { risk: 'read', flagged: [], issues: [] };
  const at = `steps.${index}.rollback`;
  const issues: FieldIssue[] = [];
  if (!catalog.get(undo.tool))
    issues.push({ path: `${at}.tool`, message: `no tool named "${undo.tool}" in the catalog` });
  const flagged = [...new Set(textsOf(undo.action).flatMap(dangerIn))];
  const parsed = Action.safeParse(undo.action);
  if (!parsed.success) {
    // A field that holds a fact is checked once the fact is filled in; anything else must be right now.
    for (const issue of parsed.error.issues) {
      const value = valueAt(undo.action, issue.path);
      if (typeof value === 'string' && FACT.test(value)) continue;
      issues.push({
        path: `${at}.action${issue.path.length ? `.${issue.path.join('.')}` : ''}`,
        message: issue.message,
      });
    }
    return { risk: flagged.length ? 'destructive' : 'change', flagged, issues };
  }
  for (const p of egressProblems({ ...step, action: parsed.data }, egress))
    issues.push({ path: `${at}.action.${p.kind === 'url' ? 'url' : 'args'}`, message: p.message });
  return { risk: flagged.length ? 'destructive' : actionRisk(parsed.data), flagged, issues };
};

/**
 * The gate for a raw executable plan: the same risk rules as a planned one. What the body says of a
 * step's tool is replaced by the catalog's (an unknown tool is an error), the risk comes from each
 * action and the catalog, and flagged content (the step's undo included) makes it destructive. The
 * undo must name a catalog tool and be a valid action, save for the facts filled in on the target.
 * Nothing in the body lowers it. A step's check (check mode, no approval) is the server's as well:
 * derived from its catalog tool and parameters, and a different one in the body is refused.
 */
export const assessExecutablePlan = (
  input: Plan,
  catalog: ToolCatalog,
  egress: EgressPolicy = CLOSED_EGRESS,
): ExecutableAssessment => {
  const issues: FieldIssue[] = [];
  const approvalReasons: string[] = [];
  const warnings: string[] = [];
  let risk: RiskLevel = 'read';
  const steps = input.steps.map((step, index) => {
    const tool = step.tool ? catalog.get(step.tool.name) : undefined;
    if (step.tool && !tool)
      issues.push({
        path: `steps.${index}.tool.name`,
        message: catalog.unavailable(step.tool.name)
          ? `${step.tool.name} is not available: ${catalog.unavailable(step.tool.name)}`
          : `no tool named "${step.tool.name}" in the catalog`,
      });
    for (const p of egressProblems(step, egress))
      issues.push({ path: `steps.${index}.action.${p.kind === 'url' ? 'url' : 'args'}`, message: p.message });
    if (step.action.method === 'database' && sqlStatementCount(step.action.query) > 1)
      issues.push({ path: `steps.${index}.action.query`, message: ONE_STATEMENT_MESSAGE });
    for (const p of powerStepProblems(step.action, { timeoutSeconds: step.timeoutSeconds, attempts: step.maxAttempts }))
      issues.push({
        path: `steps.${index}.${p.field === 'attempts' ? 'maxAttempts' : 'timeoutSeconds'}`,
        message: p.message,
      });
    const mine = assessStep(step, tool);
    const undo = assessUndo(step, index, catalog, egress);
    issues.push(...undo.issues);
    // An undo runs after its step changed something (never after a read): then it raises the step's
    // risk to its own; flagged content in it is the approver's business whatever the step is.
    const raised = mine.risk !== 'read' || undo.flagged.length > 0 ? maxRisk(mine.risk, undo.risk) : mine.risk;
    const assessed = { risk: raised, flagged: [...new Set([...mine.flagged, ...undo.flagged])] };
    risk = maxRisk(risk, assessed.risk);
    if (assessed.risk !== 'read')
      approvalReasons.push(
        `step "${step.id}" is ${assessed.risk}${assessed.flagged.length ? ' (flagged content)' : ''}`,
      );
    if (assessed.flagged.length)
      warnings.push(`step "${step.id}" ${assessed.flagged.join('; ')}: review it before approving`);
    // Check mode runs with no approval: what a step probes there is the server's, never the body's.
    const check = derivedCheck(step, tool);
    if (step.check && !sameJson(step.check, check))
      issues.push({
        path: `steps.${index}.check`,
        message: check
          ? "is not this step's check: the server derives it from the step's catalog tool and parameters (leave it out)"
          : 'this step has no check (no catalog tool makes its action): the server derives checks, leave it out',
      });
    // A reboot or shutdown runs once, whatever the plan's default attempts.
    const { check: _bodyCheck, ...rest } = step;
    const own = { ...rest, ...(check && { check }) };
    const once = powerOperation(step.action) ? { ...own, maxAttempts: 1 } : own;
    return step.tool && tool
      ? {
          ...once,
          tool: { ...step.tool, risk: assessed.risk, typicalDurationSeconds: typicalSeconds(tool, step.action) },
        }
      : once;
  });
  const asked = input.policies.approvalRequired;
  if (asked) approvalReasons.unshift('the plan asks for approval');
  const approvalRequired = asked || risk !== 'read';
  return {
    plan: { ...input, steps, policies: { ...input.policies, approvalRequired } },
    risk,
    approvalRequired,
    approvalReasons,
    warnings,
    issues,
  };
};
