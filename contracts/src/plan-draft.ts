import { z } from 'zod';
import { TargetSelector } from './inventory.js';
import { StepId } from './plan.js';
import { PlanTitle } from './plan-title.js';
import { ToolName } from './tools.js';

/*
 * The plan as planners write it and people read and edit it: steps that name a tool, its
 * parameters and the targets, plus the policies of the rollout. The validator turns it into the
 * executable `Plan` (every step an action) and says what it will do, to what, and at what risk.
 */

export const DraftStep = z.strictObject({
  id: StepId,
  tool: ToolName,
  /** Checked against the tool's parameter schema by the validator, which names the tool and parameter in each error. */
  params: z.record(z.string(), z.unknown()).default({}),
  /** Which inventory targets the step acts on; a tool that runs on the executor takes none. */
  targets: TargetSelector.optional(),
  name: z.string().min(1).max(200).optional(),
  timeoutSeconds: z.number().int().min(1).max(86_400).optional(),
  /** Attempts for transport faults, overriding the plan's `retries`. */
  retries: z.number().int().min(1).max(10).optional(),
});
export type DraftStep = z.infer<typeof DraftStep>;

export const RolloutPolicies = z.strictObject({
  /** Targets a step works on at once: one sliding window. */
  maxParallel: z.number().int().min(1).max(1_000).default(25),
  /** A target that fails a step is left out of later steps, and the others go on. */
  continueOnFailure: z.boolean().default(false),
  /** Stop launching when more than this share of the job's targets failed. */
  maxFailPercentage: z.number().min(0).max(100).default(100),
  /** When the share is crossed: `abort` (compensate per `rollback`) or `ask` an approver to continue or roll back. */
  onFailThreshold: z.enum(['abort', 'ask']).default('abort'),
  /** Default limit of one attempt of a step on one target. */
  timeoutSeconds: z.number().int().min(1).max(86_400).default(300),
  /** Attempts per step and target for transport faults. */
  retries: z.number().int().min(1).max(10).default(3),
  /** What to undo when a target fails: nothing, that target's completed changes, or every target's. */
  rollback: z.enum(['none', 'target', 'all']).default('target'),
  /** `auto`: approval is needed when any step changes something; `required`: always. */
  approval: z.enum(['auto', 'required']).default('auto'),
});
export type RolloutPolicies = z.infer<typeof RolloutPolicies>;

export const PlanDraft = z.strictObject({
  name: z.string().min(1).max(200),
  /** A short summary for display only ("Update nginx on Production Web"); the validator keeps it in the plan. */
  title: PlanTitle.optional(),
  /** The request the plan answers, as typed. */
  request: z.string().max(4_000).optional(),
  steps: z.array(DraftStep).min(1).max(50),
  policies: RolloutPolicies.default(RolloutPolicies.parse({})),
});
export type PlanDraft = z.infer<typeof PlanDraft>;
export type PlanDraftInput = z.input<typeof PlanDraft>;

export type PlannerName = 'built-in' | 'langchain';
