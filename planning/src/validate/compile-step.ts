import {
  Action,
  fillTemplate,
  PLACEHOLDER,
  powerOperation,
  powerStepProblems,
  type DraftStep,
  type FieldIssue,
  type OsFamily,
  type ResolvedTarget,
  type RolloutPolicies,
  type Step,
  StepCheck,
  type ToolDefinition,
  type ToolPlace,
} from '@opsc/contracts';
import { canonicalJson } from '@opsc/contracts/plan-hash';
import type { ToolCatalog } from '../catalog/tool-catalog.js';
import { dangerIn } from './danger.js';
import { toolParamsSchema } from './param-schema.js';

/** A sentence from a tool's summary template (plain `{{param}}`s, the catalog checks); absent optional values drop out. */
export const describeStep = (tool: ToolDefinition, params: Record<string, unknown>): string =>
  tool.summary
    .replace(PLACEHOLDER, (_, name: string) => {
      const v = params[name];
      return v === undefined || v === null ? '' : Array.isArray(v) ? v.join(' ') : String(v);
    })
    .replace(/\s{2,}/g, ' ')
    .trim();

const methodOf = (template: unknown): string => String((template as { method?: unknown }).method);

/** Builds a tool's action for one place from validated parameters, checked against the action schemas. */
const actionFor = (
  tool: ToolDefinition,
  place: ToolPlace,
  params: Record<string, unknown>,
  at: string,
): { action?: Action; issues: FieldIssue[] } => {
  const template = tool.execution[place];
  if (!template) return { issues: [{ path: at, message: `${tool.name} does not run on ${place}` }] };
  const filled = fillTemplate(template, params) as Record<string, unknown>;
  if (
    tool.validation.successExitCodes &&
    (filled.method === 'ssh' || filled.method === 'winrm' || filled.method === 'local-command')
  ) {
    filled.successExitCodes = tool.validation.successExitCodes;
  }
  const parsed = Action.safeParse(filled);
  if (parsed.success) return { action: parsed.data, issues: [] };
  return {
    issues: parsed.error.issues.map((i) => ({
      path: `${at}.params`,
      message: `${tool.name} on ${place} (${methodOf(template)}): ${i.path.join('.') || 'action'} ${i.message}`,
    })),
  };
};

const textsIn = (value: unknown): string[] =>
  typeof value === 'string'
    ? [value]
    : value !== null && typeof value === 'object'
      ? Object.values(value).flatMap(textsIn)
      : [];

/**
 * Check mode runs with no one's approval, so a probe whose content is flagged (a credential file, a
 * key) does not run: what it would read needs a person's eyes. The step is reported as one that would run.
 */
const unflagged = (check: StepCheck): StepCheck => {
  if (check.kind !== 'probe') return check;
  const flagged = [...new Set(textsIn(check.action.operation).flatMap(dangerIn))];
  if (!flagged.length) return check;
  return { kind: 'would-run', reason: `flagged content (${flagged.join('; ')}) is not probed`.slice(0, 300) };
};

/** What the step does in check mode on that place: the tool's check template filled, or its reason nothing can be checked. */
const checkFor = (
  tool: ToolDefinition,
  place: ToolPlace,
  params: Record<string, unknown>,
  at: string,
): { check?: StepCheck; issues: FieldIssue[] } => {
  if (!tool.check) return { issues: [] };
  if (tool.check.wouldRun !== undefined)
    return { check: { kind: 'would-run', reason: tool.check.wouldRun }, issues: [] };
  const template = place === 'linux' || place === 'windows' ? tool.check[place] : undefined;
  if (!template) return { issues: [{ path: at, message: `${tool.name} has no check on ${place}` }] };
  const parsed = StepCheck.safeParse({ kind: 'probe', action: fillTemplate(template, params) });
  if (parsed.success) return { check: unflagged(parsed.data), issues: [] };
  return {
    issues: parsed.error.issues.map((i) => ({
      path: `${at}.params`,
      message: `${tool.name}'s check on ${place}: ${i.path.slice(1).join('.') || 'action'} ${i.message}`,
    })),
  };
};

/** Seconds one run of the tool usually takes; a wait takes what it says. */
export const typicalSeconds = (tool: ToolDefinition, action: Action): number =>
  action.method === 'timer' ? action.seconds : tool.typicalDurationSeconds;

/** Where an action runs, as a tool's `execution` names it. */
const placeOf = (tool: ToolDefinition, action: Action): ToolPlace =>
  action.method === 'ssh'
    ? 'linux'
    : action.method === 'winrm'
      ? 'windows'
      : tool.execution.any
        ? 'any'
        : tool.execution.workflow
          ? 'workflow'
          : 'executor';

/**
 * A raw plan step's check, always the server's: its catalog tool's check for the step's own
 * parameters (validated), when its action is what the tool makes of them. Otherwise it has none (a
 * change is then reported as one that would run): a check the body brings is never taken.
 */
export const derivedCheck = (step: Step, tool: ToolDefinition | undefined): StepCheck | undefined => {
  if (!tool || !step.tool) return undefined;
  const params = toolParamsSchema(tool).safeParse(step.tool.params);
  if (!params.success) return undefined;
  const values = params.data as Record<string, unknown>;
  const place = placeOf(tool, step.action);
  const { action } = actionFor(tool, place, values, '');
  if (!action || !sameJson(action, step.action)) return undefined;
  return checkFor(tool, place, values, '').check;
};

/** Whether two JSON values are equal, whatever their keys' order. */
export const sameJson = (a: unknown, b: unknown): boolean => canonicalJson(a) === canonicalJson(b);

export interface CompiledStep {
  steps: Step[];
  issues: FieldIssue[];
}

/**
 * One draft step as executable steps: one per OS among its targets (a Linux and a Windows
 * variant for a mixed group), each with its action, and the action that undoes it on a target.
 */
export const compileStep = (
  draft: DraftStep,
  index: number,
  tool: ToolDefinition,
  params: Record<string, unknown>,
  targets: ResolvedTarget[] | null,
  policies: RolloutPolicies,
  catalog: ToolCatalog,
): CompiledStep => {
  const at = `steps.${index}`;
  const places: ToolPlace[] =
    targets === null
      ? [tool.execution.workflow ? 'workflow' : 'executor']
      : tool.execution.any
        ? ['any']
        : (['linux', 'windows'] as OsFamily[]).filter((os) => targets.some((t) => t.os === os));
  const issues: FieldIssue[] = [];
  const steps: Step[] = [];
  const name = draft.name ?? describeStep(tool, params);
  for (const place of places) {
    const { action, issues: found } = actionFor(tool, place, params, at);
    issues.push(...found);
    if (!action) continue;
    const id = places.length > 1 ? `${draft.id.slice(0, 54)}-${place}` : draft.id;
    const step: Step = {
      id,
      name: places.length > 1 ? `${name} (${place})` : name,
      action,
      timeoutSeconds: draft.timeoutSeconds ?? tool.timeoutSeconds ?? policies.timeoutSeconds,
      // A reboot or shutdown runs once: a retry could do it again.
      ...(powerOperation(action) ? { maxAttempts: 1 } : draft.retries !== undefined && { maxAttempts: draft.retries }),
      ...(draft.targets &&
        place !== 'executor' &&
        place !== 'workflow' && {
          targets: places.length > 1 ? { ...draft.targets, os: place as OsFamily } : draft.targets,
        }),
      ...(places.length > 1 && { variantOf: draft.id }),
      tool: { name: tool.name, risk: tool.risk, params, typicalDurationSeconds: typicalSeconds(tool, action) },
    };
    for (const p of powerStepProblems(action, { timeoutSeconds: step.timeoutSeconds, attempts: draft.retries })) {
      const path = `${at}.${p.field === 'attempts' ? 'retries' : 'timeoutSeconds'}`;
      if (!issues.some((i) => i.path === path)) issues.push({ path, message: p.message });
    }
    const { check, issues: checkIssues } = checkFor(tool, place, params, at);
    issues.push(...checkIssues);
    if (check) step.check = check;
    const undo = tool.rollback && catalog.get(tool.rollback.tool);
    if (tool.rollback && undo?.execution[place]) {
      const undoParams = fillTemplate(tool.rollback.params, params) as Record<string, unknown>;
      for (const [key, p] of Object.entries(undo.params))
        if (undoParams[key] === undefined && p.default !== undefined) undoParams[key] = p.default;
      step.rollback = {
        tool: undo.name,
        name: describeStep(undo, undoParams),
        action: fillTemplate(undo.execution[place], undoParams) as Record<string, unknown>,
      };
    }
    steps.push(step);
  }
  return { steps, issues };
};
