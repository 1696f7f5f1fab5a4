import { z } from 'zod';
import { EtaRange } from '../eta.js';
import { OsFamily } from '../inventory.js';
import { Plan } from '../plan.js';
import { PlanDraft } from '../plan-draft.js';
import { RiskLevel, ToolPlace } from '../tools.js';
import { FieldIssue } from './errors.js';

// Requests.

/** `POST /api/plans`: a request in words, or a plan someone edited (validated again, never trusted). */
export const PlanRequestBody = z.union([
  z.strictObject({ request: z.string().trim().min(1, { message: 'say what to do' }).max(4_000) }),
  z.strictObject({ plan: z.unknown() }),
]);
export type PlanRequestBody = z.infer<typeof PlanRequestBody>;

// Answers.

/** What the validator found out about a plan: the "AI Response" the user approves. */
export const PlanSummary = z.object({
  /** What will happen, a sentence per step. */
  bullets: z.array(z.string()),
  targets: z.object({ total: z.number().int(), byOs: z.record(OsFamily, z.number().int()) }),
  risk: RiskLevel,
  approvalRequired: z.boolean(),
  /** Why approval is needed: the steps that change things, flagged content. */
  approvalReasons: z.array(z.string()),
  /** Seconds: each step's typical duration times its waves of `maxParallel` targets. */
  etaSeconds: z.number(),
  /**
   * The ETA a job of this plan starts with: a range from earlier runs on these targets (else the
   * tools' estimates) and the platform's measured dispatch cost, how sure it is and why. Absent where
   * the plan was not estimated that way (offline evaluation); `etaSeconds` then stands alone.
   */
  eta: EtaRange.optional(),
  /** Things a reviewer should look at twice. */
  warnings: z.array(z.string()),
});
export type PlanSummary = z.infer<typeof PlanSummary>;

/** A parameter the planner could not fill from the request: the plan cannot run until it is given. */
export const MissingInput = z.object({ path: z.string(), question: z.string() });
export type MissingInput = z.infer<typeof MissingInput>;

/** `POST /api/plans { plan }`: what the validator makes of a draft. */
export const PlanValidation = z.object({
  status: z.enum(['ready', 'needs-input', 'invalid']),
  draft: PlanDraft.nullable(),
  plan: Plan.nullable(),
  planHash: z.string().nullable(),
  summary: PlanSummary.nullable(),
  issues: z.array(FieldIssue),
  missing: z.array(MissingInput),
});
export type PlanValidation = z.infer<typeof PlanValidation>;

/** `POST /api/plans { request }`: the planner's proposal, validated and explained. */
export const PlanProposal = z.object({
  planner: z.enum(['built-in', 'langchain']),
  /** Why the configured LLM planner did not answer, when the built-in one did instead. */
  fallbackReason: z.string().optional(),
  status: z.enum(['ready', 'needs-input', 'invalid', 'refused']),
  request: z.string(),
  draft: PlanDraft.nullable(),
  /** The executable plan, when the draft is valid and complete. */
  plan: Plan.nullable(),
  /** SHA-256 of the executable plan's canonical JSON: what an approval binds to. */
  planHash: z.string().nullable(),
  summary: PlanSummary.nullable(),
  missing: z.array(MissingInput),
  issues: z.array(FieldIssue),
  refusal: z
    .object({ message: z.string(), closestTools: z.array(z.object({ name: z.string(), description: z.string() })) })
    .optional(),
  /** The response as a person reads it. */
  text: z.string(),
});
export type PlanProposal = z.infer<typeof PlanProposal>;

/** The answer to `POST /api/plans`: a proposal for a request in words, a validation for a plan. */
export const PlanAnswer = z.union([PlanProposal, PlanValidation]);
export type PlanAnswer = z.infer<typeof PlanAnswer>;

/** What planners and people see of a tool. */
export const ToolSummary = z.object({
  name: z.string(),
  description: z.string(),
  risk: RiskLevel,
  places: z.array(ToolPlace),
  params: z.record(
    z.string(),
    z.object({
      type: z.enum(['string', 'integer', 'boolean', 'string-list', 'script']),
      description: z.string(),
      required: z.boolean(),
      enum: z.array(z.string()).optional(),
      default: z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]).optional(),
    }),
  ),
});
export type ToolSummary = z.infer<typeof ToolSummary>;

/**
 * `GET /api/tools`: the catalog, and the tools hidden from it because no executor can run them now
 * (a local program not installed or not working in the sandbox), each with the reason.
 */
export const ToolList = z.object({
  tools: z.array(ToolSummary),
  unavailable: z.array(z.object({ name: z.string(), reason: z.string() })),
});
export type ToolList = z.infer<typeof ToolList>;
