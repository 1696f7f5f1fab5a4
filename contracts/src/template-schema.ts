import { z } from 'zod';
import { TargetSelector } from './inventory.js';
import { DraftStep, PlanDraft } from './plan-draft.js';
import { StepId } from './plan.js';

/*
 * A template is a plan draft with parameters: where a step parameter (or a step's targets) is one,
 * the draft holds `{{params.<name>}}`, a placeholder of its own language, distinct from the tools'
 * `{{name}}` and `{{facts.name}}` (placeholders.ts): a template's placeholder is filled once, at
 * run time, before the plan meets the validator, and never appears in a tool's action.
 */

export const TemplateParamName = z.string().regex(/^[a-z][A-Za-z0-9]{0,62}$/, {
  message: 'must be a camelCase name: a lower-case letter, then letters and digits',
});

/** `{{params.<name>}}`: a whole string, never part of one. */
export const PARAM_REF = /^\{\{params\.([a-z][A-Za-z0-9]{0,62})\}\}$/;
/** Any mention of a template parameter, whole or not. */
export const PARAM_MENTION = /\{\{\s*params\./;
export const paramRef = (name: string): string => `{{params.${name}}}`;

/** Where a parameter goes: a step's tool parameter, or the step's targets (a group, or target names). */
export const ParamBinding = z.union([
  z.strictObject({ step: StepId, param: z.string().min(1).max(63) }),
  z.strictObject({ step: StepId, selector: z.enum(['group', 'targets']) }),
]);
export type ParamBinding = z.infer<typeof ParamBinding>;

/**
 * A template parameter's type: the tools' own (`string`, `integer`, `boolean`, `string-list`), or a
 * target selector: `group` (one inventory group) or `target-list` (inventory target names).
 */
export const TemplateParamType = z.enum(['string', 'integer', 'boolean', 'string-list', 'group', 'target-list']);
export type TemplateParamType = z.infer<typeof TemplateParamType>;

export const ParamValue = z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]);
export type ParamValue = z.infer<typeof ParamValue>;

/**
 * A template parameter with the constraints of every step parameter it fills (intersected when
 * it fills several): the run form is rendered from it and every value is checked against it.
 */
export const TemplateParam = z.strictObject({
  name: TemplateParamName,
  type: TemplateParamType,
  description: z.string().max(500),
  required: z.boolean(),
  default: ParamValue.optional(),
  /** Allowed values (strings); the intersection of the bound parameters' enums. */
  enum: z.array(z.string()).max(100).optional(),
  /** Regular expressions a string (or each item of a list) must match in full: every bound parameter's. */
  patterns: z.array(z.string().max(500)).max(10).optional(),
  min: z.number().int().optional(),
  max: z.number().int().optional(),
  maxLength: z.number().int().min(1).optional(),
  binds: z.array(ParamBinding).min(1).max(50),
});
export type TemplateParam = z.infer<typeof TemplateParam>;

/** A template step: a draft step whose targets may be a parameter. */
export const TemplateStep = DraftStep.extend({
  targets: z.union([TargetSelector, z.string().regex(PARAM_REF)]).optional(),
});
export type TemplateStep = z.infer<typeof TemplateStep>;

/** The plan a template version holds: a draft with `{{params.<name>}}` where its parameters go. */
export const TemplatePlan = PlanDraft.extend({ steps: z.array(TemplateStep).min(1).max(50) });
export type TemplatePlan = z.infer<typeof TemplatePlan>;

/** What a pre-approval binds to: the template plan with its placeholders and the parameters' schema. */
export interface TemplateShape {
  plan: unknown;
  parameters: unknown;
}

/** Values a run gives, by parameter name. */
export const TemplateRunParams = z.record(z.string(), z.unknown());
export type TemplateRunParams = z.infer<typeof TemplateRunParams>;
