import { RISK_ORDER, actionRisk, maxRisk, type RiskLevel, type Step, type ToolDefinition } from '@opsc/contracts';
import { dangerIn } from './danger.js';

/** The server's verdict on one executable step. */
export interface StepAssessment {
  risk: RiskLevel;
  /** Why its content needs a second look (a recursive delete, a credential read); empty when none. */
  flagged: string[];
}

/** Every string in a value, however deep: the text an action or its parameters carry. */
const textsIn = (value: unknown, out: string[] = []): string[] => {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) textsIn(v, out);
  else if (value !== null && typeof value === 'object') for (const v of Object.values(value)) textsIn(v, out);
  return out;
};

/** A tool's risk for these parameter values: its own, raised by any `riskIf` that matches. */
export const toolRisk = (tool: ToolDefinition, params: Record<string, unknown>): RiskLevel =>
  tool.riskIf.reduce<RiskLevel>(
    (r, when) => (params[when.param] === when.equals && RISK_ORDER[when.risk] > RISK_ORDER[r] ? when.risk : r),
    tool.risk,
  );

/**
 * What one step can do, whoever wrote it: what its action does (computed from the action itself),
 * raised by its catalog tool (never by what the plan says the tool's risk is), and `destructive`
 * when its text is flagged. Nothing a plan declares lowers it.
 */
export const assessStep = (step: Step, tool: ToolDefinition | undefined): StepAssessment => {
  let risk = actionRisk(step.action);
  if (tool) risk = maxRisk(risk, toolRisk(tool, step.tool?.params ?? {}));
  // A command's words are flagged as the command line they make: `rm`, `-rf`, `/` one by one look harmless.
  const op =
    'operation' in step.action ? (step.action.operation as { argv?: string[]; program?: string; args?: string[] }) : {};
  const line = op.argv ? op.argv.join(' ') : op.program ? [op.program, ...(op.args ?? [])].join(' ') : null;
  const flagged = [
    ...new Set(textsIn([step.action, step.tool?.params ?? {}, ...(line ? [line] : [])]).flatMap(dangerIn)),
  ];
  return { risk: flagged.length > 0 ? 'destructive' : risk, flagged };
};
