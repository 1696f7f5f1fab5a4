import {
  paramRef,
  paramValueProblem,
  PARAM_MENTION,
  walkStrings,
  type FieldIssue,
  type ParamBinding,
  type PlanDraft,
  type TemplateParam,
  type TemplatePlan,
  type ToolDefinition,
  type ToolParam,
} from '@opsc/contracts';
import type { TemplateParamSpec } from '@opsc/contracts/api';

/*
 * A template's parameters come from the tools' own parameter schemas: a template parameter bound
 * to one step parameter takes its type and constraints; bound to several, the intersection (the
 * same type, the enums' common values, every pattern, the tightest bounds). A step's targets may be
 * a parameter too: an inventory group, or a list of target names.
 */

type Lookup = (tool: string) => ToolDefinition | undefined;

export interface DerivedTemplate {
  plan: TemplatePlan;
  parameters: TemplateParam[];
  issues: FieldIssue[];
}

/** The operation fields that say which program a target runs, with which arguments, or which SQL. */
const CODE_FIELDS: Record<string, readonly string[]> = { run: ['argv'], command: ['program', 'args'] };

/**
 * The tool's parameters that fill what a target runs: a command's program or arguments, a local
 * command, a database query. A value there is code, not data: a run could make it any command.
 */
export const codeParams = (tool: ToolDefinition): Set<string> => {
  const names = new Set<string>();
  const mentions = (value: unknown) => {
    for (const m of JSON.stringify(value ?? null).matchAll(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g)) names.add(m[1]!);
  };
  for (const action of Object.values(tool.execution) as Record<string, unknown>[]) {
    if (action.method === 'database') mentions(action.query);
    if (action.method === 'local-command') mentions([action.command, action.args]);
    const op = action.operation as Record<string, unknown> | undefined;
    for (const field of CODE_FIELDS[String(op?.op)] ?? []) mentions(op?.[field]);
  }
  return names;
};

/** A tool parameter's constraints as a template parameter's (without name, binds, default). */
const fromTool = (p: ToolParam): Omit<TemplateParam, 'name' | 'binds' | 'default' | 'description'> | string => {
  if (p.type === 'script') return 'a script parameter cannot be a template parameter: a run could make it any program';
  return {
    type: p.type,
    required: p.required,
    ...(p.enum && { enum: [...p.enum] }),
    ...(p.pattern !== undefined && { patterns: [p.pattern] }),
    ...(p.min !== undefined && { min: p.min }),
    ...(p.max !== undefined && { max: p.max }),
    ...(p.maxLength !== undefined && { maxLength: p.maxLength }),
  };
};

type Constraints = Exclude<ReturnType<typeof fromTool>, string>;

/** The constraints both must satisfy, or why they cannot be one parameter. */
export const intersect = (a: Constraints, b: Constraints): Constraints | string => {
  if (a.type !== b.type) return `binds a ${a.type} and a ${b.type}: one parameter has one type`;
  const out: Constraints = { type: a.type, required: a.required || b.required };
  if (a.enum || b.enum) {
    const common = a.enum && b.enum ? a.enum.filter((v) => b.enum!.includes(v)) : (a.enum ?? b.enum)!;
    if (common.length === 0) return 'the bound parameters allow no common value';
    out.enum = common;
  }
  const patterns = [...new Set([...(a.patterns ?? []), ...(b.patterns ?? [])])];
  if (patterns.length) out.patterns = patterns;
  const min = Math.max(a.min ?? -Infinity, b.min ?? -Infinity);
  const max = Math.min(a.max ?? Infinity, b.max ?? Infinity);
  if (min > max) return `the bound parameters' ranges do not overlap (${min} > ${max})`;
  if (Number.isFinite(min)) out.min = min;
  if (Number.isFinite(max)) out.max = max;
  const maxLength = Math.min(a.maxLength ?? Infinity, b.maxLength ?? Infinity);
  if (Number.isFinite(maxLength)) out.maxLength = maxLength;
  return out;
};

const sameValue = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * Builds a template from a validated draft and the parameters asked for: each binding's site gets
 * its placeholder, each parameter its derived schema. The draft's own value at the sites (when they
 * agree) becomes the default, else the tool's default; with neither, a parameter the tool requires
 * (or a selector) is required. Issues name `parameters.<i>…`.
 */
export const deriveTemplate = (
  draft: PlanDraft,
  specs: readonly TemplateParamSpec[],
  tool: Lookup,
): DerivedTemplate => {
  const issues: FieldIssue[] = [];
  const plan = structuredClone(draft) as TemplatePlan;
  // Text of the draft that reads as a template placeholder would be filled at run time: refused.
  walkStrings(draft, (text, path) => {
    if (PARAM_MENTION.test(text))
      issues.push({ path: `draft.${path.join('.')}`, message: 'may not contain "{{params."' });
  });
  const taken = new Map<string, string>();
  const names = new Set<string>();
  const parameters: TemplateParam[] = [];
  specs.forEach((spec, i) => {
    const at = `parameters.${i}`;
    if (names.has(spec.name)) issues.push({ path: `${at}.name`, message: `${spec.name} is named twice` });
    names.add(spec.name);
    let merged: Constraints | null = null;
    let description = spec.description ?? '';
    const seen: unknown[] = [];
    const fail = (path: string, message: string) => issues.push({ path: `${at}.${path}`, message });
    spec.binds.forEach((bind: ParamBinding, j) => {
      const stepIndex = plan.steps.findIndex((s) => s.id === bind.step);
      const step = plan.steps[stepIndex];
      if (!step) return fail(`binds.${j}.step`, `the plan has no step ${bind.step}`);
      const site = 'param' in bind ? `${bind.step}.params.${bind.param}` : `${bind.step}.targets`;
      const other = taken.get(site);
      if (other !== undefined) return fail(`binds.${j}`, `${site} is bound already (by ${other})`);
      taken.set(site, spec.name);
      let here: Constraints;
      if ('selector' in bind) {
        if (!step.targets) return fail(`binds.${j}.selector`, `step ${bind.step} takes no targets`);
        here = bind.selector === 'group' ? { type: 'group', required: true } : { type: 'target-list', required: true };
        const current = step.targets as { group?: string; targets?: string[] };
        seen.push(bind.selector === 'group' ? current.group : current.targets);
        step.targets = paramRef(spec.name);
        description ||= bind.selector === 'group' ? 'The inventory group to act on' : 'The targets to act on';
      } else {
        const definition = tool(step.tool);
        const def = definition?.params[bind.param];
        if (!definition || !def) return fail(`binds.${j}.param`, `${step.tool} has no parameter ${bind.param}`);
        if (codeParams(definition).has(bind.param))
          return fail(
            `binds.${j}.param`,
            `${bind.param} of ${step.tool} is what the target runs: it cannot be a template parameter (a run could make it any command)`,
          );
        const derived = fromTool(def);
        if (typeof derived === 'string') return fail(`binds.${j}.param`, derived);
        here = derived;
        seen.push(step.params[bind.param] ?? def.default);
        step.params[bind.param] = paramRef(spec.name);
        description ||= def.description;
      }
      const next = merged ? intersect(merged, here) : here;
      if (typeof next === 'string') return fail(`binds.${j}`, next);
      merged = next;
    });
    if (!merged) return;
    const constraints: Constraints = merged;
    const agreed = seen.every((v) => sameValue(v, seen[0])) ? seen[0] : undefined;
    const dflt = spec.default !== undefined ? spec.default : spec.required ? undefined : agreed;
    const param: TemplateParam = {
      name: spec.name,
      ...constraints,
      description: description.slice(0, 500),
      required: dflt === undefined && (constraints.required || spec.required === true),
      binds: spec.binds,
    };
    if (dflt !== undefined) {
      const problem = paramValueProblem(param, dflt);
      if (problem) fail('default', problem);
      else param.default = dflt as TemplateParam['default'];
    }
    parameters.push(param);
  });
  return { plan, parameters, issues };
};
