import { z } from 'zod';
import { ExecutableName, SafeArg } from './safe-text.js';

/** How an action reaches what it acts on. Every method runs in the executor worker, never elsewhere. */
export const ExecutionMethod = {
  localCommand: 'local-command',
  http: 'http',
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

const HeaderName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/, { message: 'is not a valid HTTP header name' });
const HeaderValue = z.string().max(8192).regex(/^[^\r\n\0]*$/, { message: 'must not contain line breaks' });

/** An HTTP request sent from the executor host. */
export const HttpAction = z.object({
  method: z.literal(ExecutionMethod.http),
  url: z
    .url({ protocol: /^https?$/, message: 'must be an absolute http:// or https:// URL' })
    .max(4096),
  httpMethod: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
  headers: z.record(HeaderName, HeaderValue).default({}),
  body: z.string().max(1_048_576).optional(),
  /** Status codes that count as success; any 2xx when absent. */
  expectStatus: z.array(z.number().int().min(100).max(599)).min(1).max(32).optional(),
});
export type HttpAction = z.infer<typeof HttpAction>;

/** What one step does. Discriminated by `method`; an unknown method is a validation error. */
export const Action = z.discriminatedUnion('method', [LocalCommandAction, HttpAction]);
export type Action = z.infer<typeof Action>;

export const StepId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/, {
  message: 'must be 1-63 letters, digits, _ or -, starting with a letter or digit',
});

/** One step of a plan. */
export const Step = z.object({
  id: StepId,
  name: z.string().min(1).max(200),
  action: Action,
  /** Wall-clock limit of one attempt; the process or request is stopped when it passes. */
  timeoutSeconds: TimeoutSeconds.default(300),
  /** Attempts for transport faults (host down, worker lost); a failed exit code is not retried. */
  maxAttempts: z.number().int().min(1).max(10).optional(),
});
export type Step = z.infer<typeof Step>;
export type StepInput = z.input<typeof Step>;

export const PlanPolicies = z.object({
  /** Go on with later steps when a step fails. */
  continueOnFailure: z.boolean().default(false),
  /** Default attempts per step for transport faults. */
  maxAttempts: z.number().int().min(1).max(10).default(3),
});
export type PlanPolicies = z.infer<typeof PlanPolicies>;

/** A validated, executable plan: what the workflow runs. */
export const Plan = z
  .object({
    name: z.string().min(1).max(200),
    steps: z.array(Step).min(1).max(200),
    policies: PlanPolicies.default({ continueOnFailure: false, maxAttempts: 3 }),
  })
  .superRefine((plan, ctx) => {
    const seen = new Set<string>();
    plan.steps.forEach((step, index) => {
      if (seen.has(step.id)) {
        ctx.addIssue({ code: 'custom', path: ['steps', index, 'id'], message: `duplicate step id "${step.id}"` });
      }
      seen.add(step.id);
    });
  });
export type Plan = z.infer<typeof Plan>;
export type PlanInput = z.input<typeof Plan>;
