import { z } from 'zod';

/*
 * The tool catalog: what a planner may use. A tool is a YAML file: typed parameters, and for each
 * place it can run (a Linux or Windows target, or the executor itself) an action template whose
 * `{{param}}` placeholders are filled with the validated values. Filled actions are then checked
 * against the plan's action schemas, and the executor quotes every value again when it runs them.
 */

export const ToolName = z.string().regex(/^[a-z][a-z0-9-]{1,62}$/, {
  message: 'must be 2-63 lower-case letters, digits and -, starting with a letter',
});

/** How much a tool can change: `read` never changes a thing, `change` does (and can be undone), `destructive` may not be undoable. */
export const RiskLevel = z.enum(['read', 'change', 'destructive']);
export type RiskLevel = z.infer<typeof RiskLevel>;
export const RISK_ORDER: Record<RiskLevel, number> = { read: 0, change: 1, destructive: 2 };

/**
 * Where a tool runs: on Linux or Windows inventory targets, on any target (a database it serves), on
 * the executor itself, or in the job's workflow (a `timer`: a pause, where nothing runs at all).
 */
export const ToolPlace = z.enum(['linux', 'windows', 'any', 'executor', 'workflow']);
export type ToolPlace = z.infer<typeof ToolPlace>;

export const ToolMethod = z.enum(['local-command', 'ssh', 'winrm', 'http', 'database', 'timer']);
export type ToolMethod = z.infer<typeof ToolMethod>;

const ParamName = z.string().regex(/^[a-z][A-Za-z0-9]{0,62}$/, { message: 'must be a camelCase name' });

export const ToolParam = z
  .strictObject({
    type: z.enum(['string', 'integer', 'boolean', 'string-list', 'script']),
    description: z.string().min(1).max(500),
    required: z.boolean().default(false),
    /** A regular expression a string (or each item of a list) must match in full. */
    pattern: z.string().max(500).optional(),
    enum: z.array(z.string().min(1).max(200)).min(1).max(100).optional(),
    default: z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]).optional(),
    min: z.number().int().optional(),
    max: z.number().int().optional(),
    maxLength: z.number().int().min(1).max(262_144).optional(),
  })
  .superRefine((p, ctx) => {
    if (p.pattern !== undefined) {
      try {
        new RegExp(p.pattern);
      } catch (err) {
        ctx.addIssue({
          code: 'custom',
          path: ['pattern'],
          message: `is not a valid regular expression: ${(err as Error).message}`,
        });
      }
    }
    if ((p.min !== undefined || p.max !== undefined) && p.type !== 'integer')
      ctx.addIssue({ code: 'custom', path: ['min'], message: 'min and max apply to integers only' });
    if (p.enum && p.type !== 'string')
      ctx.addIssue({ code: 'custom', path: ['enum'], message: 'enum applies to strings only' });
    if (p.required && p.default !== undefined)
      ctx.addIssue({ code: 'custom', path: ['default'], message: 'a required parameter takes no default' });
  });
export type ToolParam = z.infer<typeof ToolParam>;

/** An action with placeholders; it is checked as a real action once filled. */
const ActionTemplate = z.looseObject({ method: ToolMethod });

/**
 * What a tool does in check mode: a read-only check template per OS the tool runs on (SSH or WinRM
 * check operations), or `wouldRun`, why its effect cannot be known before it runs (a script, a
 * reboot, a database write): then nothing runs and the step is reported as one that would run.
 */
export const ToolCheck = z
  .strictObject({
    linux: ActionTemplate.optional(),
    windows: ActionTemplate.optional(),
    wouldRun: z.string().min(3).max(300).optional(),
  })
  .superRefine((check, ctx) => {
    const templates = check.linux !== undefined || check.windows !== undefined;
    if (templates === (check.wouldRun !== undefined))
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'names either a check template per OS (linux, windows) or wouldRun, the reason nothing can be checked',
      });
  });
export type ToolCheck = z.infer<typeof ToolCheck>;

/** A tool another tool refers to (its rollback, its verification), with parameter templates. */
const ToolCall = z.strictObject({
  tool: ToolName,
  params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).default({}),
});

export const ToolDefinition = z
  .strictObject({
    name: ToolName,
    description: z.string().min(10).max(1_000),
    /** What one step does, for the plan's bullets: `Stop the {{service}} service`. */
    summary: z.string().min(3).max(200),
    /** Words a person might use for it, which the built-in planner and the "closest tools" list read. */
    keywords: z.array(z.string().min(1).max(50)).max(30).default([]),
    risk: RiskLevel,
    /** A higher risk when a parameter has a value: `{ param: allowWrites, equals: true, risk: destructive }`. */
    riskIf: z
      .array(
        z.strictObject({ param: ParamName, equals: z.union([z.string(), z.number(), z.boolean()]), risk: RiskLevel }),
      )
      .max(10)
      .default([]),
    /** Seconds one run usually takes on one target: the ETA is made of these. */
    typicalDurationSeconds: z.number().min(0.1).max(86_400),
    timeoutSeconds: z.number().int().min(1).max(86_400).optional(),
    params: z.record(ParamName, ToolParam).default({}),
    /** One action template per place the tool runs. */
    execution: z.partialRecord(ToolPlace, ActionTemplate),
    validation: z
      .strictObject({
        successExitCodes: z.array(z.number().int().min(0)).min(1).max(32).optional(),
        /** A read-only tool that confirms the change took effect. */
        verify: ToolCall.optional(),
      })
      .default({}),
    /** What undoes this tool on a target; `{{facts.x}}` refers to what the run reported (a backup path). */
    rollback: ToolCall.optional(),
    /** What the tool does in check mode: required of every tool that may change something. */
    check: ToolCheck.optional(),
  })
  .superRefine((tool, ctx) => {
    const places = Object.keys(tool.execution);
    if (places.length === 0)
      ctx.addIssue({
        code: 'custom',
        path: ['execution'],
        message: 'names no place the tool runs (linux, windows, any, executor or workflow)',
      });
    for (const own of ['executor', 'workflow'] as const)
      if (tool.execution[own] && places.length > 1)
        ctx.addIssue({
          code: 'custom',
          path: ['execution'],
          message: `a tool runs either on the ${own} or on targets, not both`,
        });
    if (tool.execution.any && places.length > 1)
      ctx.addIssue({ code: 'custom', path: ['execution'], message: 'a tool that runs on any target has one template' });
    if (!tool.check && (tool.risk !== 'read' || tool.riskIf.length > 0))
      ctx.addIssue({
        code: 'custom',
        path: ['check'],
        message: 'a tool that may change something declares a check (a read-only template per OS, or wouldRun)',
      });
    for (const os of ['linux', 'windows'] as const)
      if (tool.check?.[os] && !tool.execution[os])
        ctx.addIssue({ code: 'custom', path: ['check', os], message: `the tool does not run on ${os}` });
    if (tool.check && tool.check.wouldRun === undefined)
      for (const os of ['linux', 'windows'] as const)
        if (tool.execution[os] && !tool.check[os])
          ctx.addIssue({ code: 'custom', path: ['check'], message: `the tool runs on ${os} and has no ${os} check` });
    tool.riskIf.forEach((r, i) => {
      if (!(r.param in tool.params))
        ctx.addIssue({ code: 'custom', path: ['riskIf', i, 'param'], message: `${r.param} is not a parameter` });
    });
  });
export type ToolDefinition = z.infer<typeof ToolDefinition>;
export type ToolDefinitionInput = z.input<typeof ToolDefinition>;
