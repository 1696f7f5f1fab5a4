import { maxRisk, type EgressPolicy, type FieldIssue, type Plan, type RiskLevel } from '@opsc/contracts';
import type { ToolCatalog } from '../catalog/tool-catalog.js';
import { assessStep } from './assess-risk.js';
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

/**
 * The gate for a raw executable plan: the same risk rules as a planned one. What the body says of a
 * step's tool is replaced by the catalog's (an unknown tool is an error), the risk comes from each
 * action and the catalog, and flagged content makes it destructive. Nothing in the body lowers it.
 */
export const assessExecutablePlan = (input: Plan, catalog: ToolCatalog, egress: EgressPolicy = CLOSED_EGRESS): ExecutableAssessment => {
  const issues: FieldIssue[] = [];
  const approvalReasons: string[] = [];
  const warnings: string[] = [];
  let risk: RiskLevel = 'read';
  const steps = input.steps.map((step, index) => {
    const tool = step.tool ? catalog.get(step.tool.name) : undefined;
    if (step.tool && !tool) issues.push({ path: `steps.${index}.tool.name`, message: `no tool named "${step.tool.name}" in the catalog` });
    for (const p of egressProblems(step, egress)) issues.push({ path: `steps.${index}.action.${p.kind === 'url' ? 'url' : 'args'}`, message: p.message });
    const assessed = assessStep(step, tool);
    risk = maxRisk(risk, assessed.risk);
    if (assessed.risk !== 'read') approvalReasons.push(`step "${step.id}" is ${assessed.risk}${assessed.flagged.length ? ' (flagged content)' : ''}`);
    if (assessed.flagged.length) warnings.push(`step "${step.id}" ${assessed.flagged.join('; ')}: review it before approving`);
    return step.tool && tool ? { ...step, tool: { ...step.tool, risk: assessed.risk, typicalDurationSeconds: tool.typicalDurationSeconds } } : step;
  });
  const asked = input.policies.approvalRequired;
  if (asked) approvalReasons.unshift('the plan asks for approval');
  const approvalRequired = asked || risk !== 'read';
  return { plan: { ...input, steps, policies: { ...input.policies, approvalRequired } }, risk, approvalRequired, approvalReasons, warnings, issues };
};
