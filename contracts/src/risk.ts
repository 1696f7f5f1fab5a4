import type { Action, Plan, Step } from './plan.js';
import { RISK_ORDER, type RiskLevel } from './tools.js';

/** Operations that only look: running them again, or on the wrong day, changes nothing. */
const READ_OPERATIONS: Record<'ssh' | 'winrm', ReadonlySet<string>> = {
  ssh: new Set(['service-wait', 'process-check', 'disk-usage', 'file-fetch', 'host-key-enrol']),
  winrm: new Set(['process-check', 'service-wait', 'event-log']),
};

/** The risk of an action made without a catalog tool (a hand-written plan). */
export const actionRisk = (action: Action): RiskLevel => {
  switch (action.method) {
    case 'local-command':
    case 'http':
      // The executor's allow-list and the HTTP schema keep these to look-ups.
      return 'read';
    case 'database':
      return action.allowWrites ? 'destructive' : 'read';
    case 'ssh':
    case 'winrm': {
      const op = action.operation as { op: string; action?: string };
      if (READ_OPERATIONS[action.method].has(op.op)) return 'read';
      if ((op.op === 'service' && op.action === 'status') || (op.op === 'package' && op.action === 'version')) return 'read';
      return 'change';
    }
  }
};

/** A step's risk: its tool's verdict when a tool made it, otherwise what its action does. */
export const stepRisk = (step: Step): RiskLevel => step.tool?.risk ?? actionRisk(step.action);

/** The highest risk of a plan's steps. */
export const planRisk = (plan: Plan): RiskLevel =>
  plan.steps.map(stepRisk).reduce<RiskLevel>((worst, r) => (RISK_ORDER[r] > RISK_ORDER[worst] ? r : worst), 'read');

/** Approval is needed when the plan asks for it or when any step changes something. */
export const planNeedsApproval = (plan: Plan): boolean => plan.policies.approvalRequired || planRisk(plan) !== 'read';

/** What a step's durations are recorded under: its tool, or its method and operation. */
export const toolKeyOf = (step: Step): string => {
  if (step.tool) return step.tool.name;
  const { action } = step;
  if (action.method === 'ssh' || action.method === 'winrm') return `${action.method}:${(action.operation as { op: string }).op}`;
  return action.method === 'local-command' ? `local-command:${action.command}` : action.method;
};
