import { z } from 'zod';
import { ExecutableName, SafeArg } from './safe-text.js';
import { TargetSelector } from './inventory.js';
import { LINUX_CHECK_OPS, LinuxOperation } from './linux.js';
import { WINDOWS_CHECK_OPS, WindowsOperation } from './windows.js';
import { RiskLevel, ToolName } from './tools.js';
import { PlanTitle } from './plan-title.js';

/**
 * How an action reaches what it acts on. Every method runs in the executor worker, never elsewhere,
 * but `timer`: a pause between steps, which is a durable timer of the job's workflow itself.
 */
export const ExecutionMethod = {
  localCommand: 'local-command',
  http: 'http',
  ssh: 'ssh',
  winrm: 'winrm',
  database: 'database',
  timer: 'timer',
} as const;
export type ExecutionMethod = (typeof ExecutionMethod)[keyof typeof ExecutionMethod];

const TimeoutSeconds = z.number().int().min(1).max(86_400);

/** A program run on the executor host with an argv array: no shell is involved. */
export const LocalCommandAction = z.object({
  method: z.literal(ExecutionMethod.localCommand),
  command: ExecutableName,
  args: z.array(SafeArg).max(64).default([]),
  /** Exit codes that count as success. */
  successExitCodes: z.array(z.number().int().min(0).max(255)).min(1).max(32).default([0]),
});
export type LocalCommandAction = z.infer<typeof LocalCommandAction>;

const HeaderName = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/, { message: 'is not a valid HTTP header name' });
const HeaderValue = z
  .string()
  .max(8192)
  .regex(/^[^\r\n\0]*$/, { message: 'must not contain line breaks' });

/** An HTTP request sent from the executor host. */
export const HttpAction = z.object({
  method: z.literal(ExecutionMethod.http),
  url: z.url({ protocol: /^https?$/, message: 'must be an absolute http:// or https:// URL' }).max(4096),
  httpMethod: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
  headers: z.record(HeaderName, HeaderValue).default({}),
  body: z.string().max(1_048_576).optional(),
  /** Status codes that count as success; any 2xx when absent. */
  expectStatus: z.array(z.number().int().min(100).max(599)).min(1).max(32).optional(),
});
export type HttpAction = z.infer<typeof HttpAction>;

/** A Linux operation on each of the step's targets, over SSH. */
export const SshAction = z.object({
  method: z.literal(ExecutionMethod.ssh),
  operation: LinuxOperation,
  /** Run as root through sudo (`sudo -n`, or the credential's password on stdin). */
  become: z.boolean().default(false),
  /** Exit codes that count as success. */
  successExitCodes: z.array(z.number().int().min(0).max(255)).min(1).max(32).default([0]),
});
export type SshAction = z.infer<typeof SshAction>;

/** A Windows operation on each of the step's targets, over WinRM (PowerShell). */
export const WinrmAction = z.object({
  method: z.literal(ExecutionMethod.winrm),
  operation: WindowsOperation,
  /** Exit codes that count as success. */
  successExitCodes: z.array(z.number().int().min(0).max(2_147_483_647)).min(1).max(32).default([0]),
});
export type WinrmAction = z.infer<typeof WinrmAction>;

/** One SQL statement (one per step) on each target's PostgreSQL service, run from the executor; read-only (session and transaction) unless writes are allowed. */
export const DatabaseAction = z.object({
  method: z.literal(ExecutionMethod.database),
  query: z.string().min(1).max(65_536),
  allowWrites: z.boolean().default(false),
  /** Rows kept in the result; more are counted, not kept. */
  maxRows: z.number().int().min(1).max(10_000).default(200),
});
export type DatabaseAction = z.infer<typeof DatabaseAction>;

/** A pause between steps: a durable timer in the job's workflow. Nothing runs anywhere, nothing to undo. */
export const TimerAction = z.object({
  method: z.literal(ExecutionMethod.timer),
  seconds: z.number().int().min(1).max(3_600),
});
export type TimerAction = z.infer<typeof TimerAction>;

/** What one step does. Discriminated by `method`; an unknown method is a validation error. */
export const Action = z.discriminatedUnion('method', [
  LocalCommandAction,
  HttpAction,
  SshAction,
  WinrmAction,
  DatabaseAction,
  TimerAction,
]);

/** Methods that act on inventory targets; the others run on the executor itself. */
export const REMOTE_METHODS: ReadonlySet<ExecutionMethod> = new Set([
  ExecutionMethod.ssh,
  ExecutionMethod.winrm,
  ExecutionMethod.database,
]);
export type Action = z.infer<typeof Action>;

/** Whether an action is one of the read-only operations check mode runs (never a change). */
export const isCheckAction = (action: { method: string; operation?: unknown }): boolean => {
  const op = (action.operation as { op?: unknown } | undefined)?.op;
  if (action.method === ExecutionMethod.ssh) return LINUX_CHECK_OPS.has(op as LinuxOperation['op']);
  if (action.method === ExecutionMethod.winrm) return WINDOWS_CHECK_OPS.has(op as WindowsOperation['op']);
  return false;
};

/**
 * What a step does in check mode, in place of its action: a read-only `probe` (an SSH or WinRM
 * check operation) that reports whether the change would change the target, or, for a step whose
 * effect cannot be known before it runs (a script, a reboot, a database write), `would-run`: nothing
 * runs and the step is reported as one that would run. A step without a check only reads.
 */
export const StepCheck = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('probe'),
    action: z
      .discriminatedUnion('method', [SshAction, WinrmAction])
      .refine(isCheckAction, { message: 'a check runs a read-only check operation only', path: ['operation', 'op'] }),
  }),
  z.object({ kind: z.literal('would-run'), reason: z.string().min(1).max(300) }),
]);
export type StepCheck = z.infer<typeof StepCheck>;

export const StepId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/, {
  message: 'must be 1-63 letters, digits, _ or -, starting with a letter or digit',
});

/** One step of a plan. */
export const Step = z.object({
  id: StepId,
  name: z.string().min(1).max(200),
  action: Action,
  /** Which inventory targets a remote step acts on; resolved when the job is created. */
  targets: TargetSelector.optional(),
  /** Wall-clock limit of one attempt; the process or request is stopped when it passes. */
  timeoutSeconds: TimeoutSeconds.default(300),
  /** Attempts for transport faults (host down, worker lost); a failed exit code is not retried. */
  maxAttempts: z.number().int().min(1).max(10).optional(),
  /**
   * The plan step this one is an OS variant of (a step over a mixed group becomes a Linux and a
   * Windows step): consecutive variants of one step run at the same time, in one window.
   */
  variantOf: StepId.optional(),
  /** The catalog tool this step was made from, when a tool made it: for display, risk and ETA. */
  tool: z
    .object({
      name: ToolName,
      risk: RiskLevel,
      params: z.record(z.string(), z.unknown()),
      typicalDurationSeconds: z.number(),
    })
    .optional(),
  /**
   * What undoes this step on a target. Its action may refer to what the step reported with
   * `{{facts.<name>}}` (a backup path, the previous version), filled in on that target when it runs.
   */
  rollback: z.object({ tool: ToolName, name: z.string(), action: z.record(z.string(), z.unknown()) }).optional(),
  /** What the step does in check mode instead of its action (from the tool's `check`). */
  check: StepCheck.optional(),
});
export type Step = z.infer<typeof Step>;
export type StepInput = z.input<typeof Step>;

export const PlanPolicies = z.object({
  /** Go on with later steps when a step fails. */
  continueOnFailure: z.boolean().default(false),
  /** Default attempts per step for transport faults. */
  maxAttempts: z.number().int().min(1).max(10).default(3),
  /** Targets a step works on at once. */
  maxParallel: z.number().int().min(1).max(1_000).default(25),
  /** Stop launching when more than this share of the job's targets failed. */
  maxFailPercentage: z.number().min(0).max(100).default(100),
  /**
   * What happens when `maxFailPercentage` is crossed (or, without `continueOnFailure`, at the first
   * failure): `abort` stops and compensates per `rollback`; `ask` pauses and lets an approver choose
   * to continue or roll back everything.
   */
  onFailThreshold: z.enum(['abort', 'ask']).default('abort'),
  /** How long an `ask` waits for an answer before rolling back. */
  decisionTimeoutSeconds: z.number().int().min(10).max(604_800).default(3_600),
  /** What to undo when a target fails: nothing, that target's completed changes, or every target's. */
  rollback: z.enum(['none', 'target', 'all']).default('none'),
  /** Whether a person must approve the plan before it runs. */
  approvalRequired: z.boolean().default(false),
});
export type PlanPolicies = z.infer<typeof PlanPolicies>;

/** A validated, executable plan: what the workflow runs. */
export const Plan = z
  .object({
    name: z.string().min(1).max(200),
    /** A short summary for display only (see plan-title.ts): never matched or acted on. */
    title: PlanTitle.optional(),
    steps: z.array(Step).min(1).max(200),
    policies: PlanPolicies.default(PlanPolicies.parse({})),
  })
  .superRefine((plan, ctx) => {
    const seen = new Set<string>();
    plan.steps.forEach((step, index) => {
      if (seen.has(step.id)) {
        ctx.addIssue({ code: 'custom', path: ['steps', index, 'id'], message: `duplicate step id "${step.id}"` });
      }
      seen.add(step.id);
      const remote = REMOTE_METHODS.has(step.action.method);
      if (remote && !step.targets) {
        ctx.addIssue({
          code: 'custom',
          path: ['steps', index, 'targets'],
          message: `a ${step.action.method} step needs targets`,
        });
      }
      if (!remote && step.targets) {
        ctx.addIssue({
          code: 'custom',
          path: ['steps', index, 'targets'],
          message: `a ${step.action.method} step runs ${step.action.method === 'timer' ? 'in the workflow' : 'on the executor'} and takes no targets`,
        });
      }
    });
  });
export type Plan = z.infer<typeof Plan>;
export type PlanInput = z.input<typeof Plan>;

/**
 * A step's 1-based number as the steps run ("Step 2 of 5"): consecutive OS variants of one plan step
 * (`variantOf`) run at the same time and share one. The last step's number is how many there are.
 */
export const stepNumber = (steps: readonly Pick<Step, 'variantOf'>[], index: number): number =>
  steps.slice(0, index + 1).filter((s, j) => !s.variantOf || steps[j - 1]?.variantOf !== s.variantOf).length;
