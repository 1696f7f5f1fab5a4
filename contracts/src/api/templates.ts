import { z } from 'zod';
import { StorableText } from '../plain-text.js';
import { ParamBinding, ParamValue, TemplateParam, TemplateParamName, TemplateRunParams } from '../template-schema.js';
import { RiskLevel } from '../tools.js';
import { Timestamp } from './common.js';
import { JobCreated, PlanHash } from './jobs.js';

// Requests.

/** Which step parameters (or step targets) become one template parameter. */
export const TemplateParamSpec = z.strictObject({
  name: TemplateParamName,
  description: StorableText.trim().max(500).optional(),
  binds: z.array(ParamBinding).min(1).max(50),
  /** Overrides the default taken from the plan (its value at the bound sites). */
  default: ParamValue.optional(),
  /** Required even when the plan had a value (no default is kept). */
  required: z.boolean().optional(),
});
export type TemplateParamSpec = z.infer<typeof TemplateParamSpec>;

/** The role a run needs (viewers never run anything). */
export const RunRole = z.enum(['operator', 'approver', 'admin']);
/** `auto`: a run needs approval when its plan changes something; `required`: every run needs one (a person's, or the version's pre-approval). */
export const ApprovalMode = z.enum(['auto', 'required']);

const TemplateContent = {
  /** A plan draft; it must validate against the tenant's inventory and catalog as it stands. */
  draft: z.unknown(),
  parameters: z.array(TemplateParamSpec).max(30).default([]),
  runRole: RunRole.default('operator'),
  approvalMode: ApprovalMode.default('auto'),
};

/** `POST /api/templates`. */
export const CreateTemplateBody = z.strictObject({
  name: StorableText.trim().min(1, { message: 'name the template' }).max(200),
  description: StorableText.trim().max(2_000).default(''),
  ...TemplateContent,
});
export type CreateTemplateBody = z.infer<typeof CreateTemplateBody>;

/** `POST /api/templates/:id/versions`: any edit is a new version, and voids a pre-approval. */
export const NewTemplateVersionBody = z.strictObject({
  description: StorableText.trim().max(2_000).optional(),
  ...TemplateContent,
});
export type NewTemplateVersionBody = z.infer<typeof NewTemplateVersionBody>;

/** `POST /api/templates/:id/pre-approve`: the version and shape hash the approver was shown. */
export const PreApproveTemplateBody = z.strictObject({
  version: z.number().int().min(1),
  shapeHash: PlanHash,
  comment: StorableText.trim().max(2_000).optional(),
});
export type PreApproveTemplateBody = z.infer<typeof PreApproveTemplateBody>;

/** `POST /api/templates/:id/run`: the latest version unless one is named. */
export const RunTemplateBody = z.strictObject({
  version: z.number().int().min(1).optional(),
  params: TemplateRunParams.default({}),
});
export type RunTemplateBody = z.infer<typeof RunTemplateBody>;

// Answers.

export const TemplatePreApproval = z.object({
  id: z.string(),
  by: z.string(),
  at: Timestamp,
  shapeHash: z.string(),
  comment: z.string().nullable(),
  voidedAt: Timestamp.nullable(),
  voidReason: z.string().nullable(),
});
export type TemplatePreApproval = z.infer<typeof TemplatePreApproval>;

export const TemplateVersionView = z.object({
  version: z.number().int(),
  /** The plan draft with `{{params.<name>}}` placeholders. */
  plan: z.unknown(),
  parameters: z.array(TemplateParam),
  runRole: RunRole,
  approvalMode: ApprovalMode,
  risk: RiskLevel,
  shapeHash: z.string(),
  createdBy: z.string(),
  createdAt: Timestamp,
  /** The version's pre-approvals, live or voided, newest first. */
  preApprovals: z.array(TemplatePreApproval),
});
export type TemplateVersionView = z.infer<typeof TemplateVersionView>;

export const TemplateSummary = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  createdBy: z.string(),
  createdAt: Timestamp,
  latestVersion: z.number().int(),
  risk: RiskLevel,
  runRole: RunRole,
  approvalMode: ApprovalMode,
  /** Whether the latest version holds a live pre-approval. */
  preApproved: z.boolean(),
});
export type TemplateSummary = z.infer<typeof TemplateSummary>;

export const TemplateList = z.object({ templates: z.array(TemplateSummary) });
export type TemplateList = z.infer<typeof TemplateList>;

export const TemplateDetail = TemplateSummary.extend({ versions: z.array(TemplateVersionView) });
export type TemplateDetail = z.infer<typeof TemplateDetail>;

/** A run: the job it created, and whether the version's pre-approval approved it (and why not). */
export const TemplateRun = z.object({
  job: JobCreated,
  template: z.object({ id: z.string(), version: z.number().int() }),
  preApproval: z.object({ applied: z.boolean(), reason: z.string().nullable() }),
});
export type TemplateRun = z.infer<typeof TemplateRun>;
