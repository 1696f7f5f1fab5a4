import { z } from 'zod';
import { JobResume } from '../job-resume.js';
import { Plan } from '../plan.js';
import { StorableText } from '../plain-text.js';
import { JobProgress } from '../progress.js';
import { JobResult, JobStatus } from '../results.js';
import { JobOrigin } from '../job-origin.js';
import { JobMode } from '../check-mode.js';
import { RiskLevel } from '../tools.js';
import { RecordedError, TargetName, Timestamp } from './common.js';
import { PlanSummary } from './plans.js';

// Requests.

/** `check`: change nothing, report what each step would change on each target (no approval needed). */
const Mode = JobMode.optional();

export const PlanHash = z
  .string()
  .regex(/^[0-9a-f]{64}$/, { message: 'must be the 64-hex plan hash shown with the plan' });

/** `POST /api/jobs` from a request in words: planned, validated and run. */
export const CreateJobFromRequest = z.strictObject({
  request: z.string().trim().min(1, { message: 'say what to do' }).max(4_000),
  expectPlanHash: PlanHash.optional(),
  mode: Mode,
});
/** `POST /api/jobs` from a plan draft someone edited: validated again. */
export const CreateJobFromDraft = z.strictObject({
  draft: z.unknown(),
  expectPlanHash: PlanHash.optional(),
  mode: Mode,
});
/** `POST /api/jobs` from an executable plan: its risk is assessed again. */
export const CreateJobFromPlan = z.strictObject({ plan: Plan, expectPlanHash: PlanHash.optional(), mode: Mode });
/** The three bodies `POST /api/jobs` takes (for documents; the route picks one by its key, see `createJobSchema`). */
export const CreateJobBody = z.union([CreateJobFromRequest, CreateJobFromDraft, CreateJobFromPlan]);
export type CreateJobBody = z.infer<typeof CreateJobBody>;
/** The body's shape is chosen by its key, so errors name the fields of that shape (`plan.steps.0…`). */
export const createJobSchema = (body: unknown): z.ZodType<CreateJobBody> =>
  body !== null && typeof body === 'object' && 'request' in body
    ? CreateJobFromRequest
    : body !== null && typeof body === 'object' && 'draft' in body
      ? CreateJobFromDraft
      : CreateJobFromPlan;

/** A comment goes into the decision's record, the job's and the audit log: refused here if it could not be stored there. */
const Comment = StorableText.trim().max(2_000).optional();
export const ApproveBody = z.strictObject({ planHash: PlanHash, comment: Comment });
export const RejectBody = z.strictObject({ comment: Comment });
/** `pause` and `resume`. */
export const ControlBody = z.strictObject({ comment: Comment });
export const CancelBody = z.strictObject({ comment: Comment, mode: z.enum(['finish', 'interrupt']).default('finish') });
/** `POST /api/jobs/:id/retry`. */
export const RetryBody = z.strictObject({ comment: Comment });
/** `retry`: the failed targets of the step that asked run it again, in the same run (docs/retry.md). */
export const DecideBody = z.strictObject({ choice: z.enum(['continue', 'rollback', 'retry']), comment: Comment });

const commaList = <T extends z.ZodType<unknown, string>>(item: T) =>
  z
    .string()
    .transform((v) => v.split(',').filter(Boolean))
    .pipe(z.array(item));

/** `GET /api/jobs` filters; `before` is the `next.before` of the previous page. */
export const JobListQuery = z.strictObject({
  status: commaList(JobStatus).optional(),
  requester: z.string().max(200).optional(),
  group: z.string().max(200).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  q: z.string().max(200).optional(),
  before: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

/** `GET /api/jobs/:id/results` filters; `after` is the `next.after` of the previous page. */
export const ResultsQuery = z.strictObject({
  target: z.string().min(1).max(253).optional(),
  step: z.string().min(1).max(200).optional(),
  status: commaList(z.enum(['succeeded', 'failed', 'skipped', 'pending'])).optional(),
  after: z.string().max(2_000).optional(),
  limit: z.coerce.number().int().min(1).max(1_000).default(200),
});

/** `GET /api/jobs/:id/events`: where a reconnecting client resumes (the `Last-Event-ID` header wins). */
export const EventsQuery = z.object({
  lastEventId: z
    .string()
    .regex(/^\d{1,18}$/)
    .optional(),
});

// Answers.

export const JobLinks = z.object({
  self: z.string(),
  events: z.string(),
  /** `GET /api/jobs/:id/results`: the per-target results with their full output, a page at a time. */
  results: z.string(),
  temporalUi: z.string().nullable(),
  /** The job's trace in a trace viewer (`OTEL_TRACE_UI_URL`), when tracing recorded one and a viewer is set. */
  traceUi: z.string().nullable(),
});
export type JobLinks = z.infer<typeof JobLinks>;

/** The answer to `POST /api/jobs` (201). */
export const JobCreated = z.object({
  id: z.string(),
  status: z.literal('queued'),
  planHash: z.string(),
  risk: RiskLevel,
  approvalRequired: z.boolean(),
  mode: JobMode,
  summary: PlanSummary.nullable(),
  links: JobLinks,
});
export type JobCreated = z.infer<typeof JobCreated>;

/** How a finished job ended: the workflow's counts (`JobResult` without its id and status), with the status. */
export const JobOutcome = JobResult.omit({ jobId: true, status: true })
  .partial()
  .extend({ status: z.string().optional() })
  .loose();
export type JobOutcome = z.infer<typeof JobOutcome>;

/** The approval as the job's record holds it once decided. */
export const JobApproval = z
  .object({ status: z.string(), by: z.string(), at: z.string(), comment: z.string().nullable(), planHash: z.string() })
  .partial()
  .loose();
export type JobApproval = z.infer<typeof JobApproval>;

/** Something a person (or a timeout) did to the job. */
export const JobEventEntry = z
  .object({
    key: z.string().optional(),
    action: z.string(),
    actor: z.string(),
    at: z.string().optional(),
    comment: z.string().optional(),
    details: z.record(z.string(), z.unknown()).optional(),
    decisionId: z.string().optional(),
  })
  .loose();
export type JobEventEntry = z.infer<typeof JobEventEntry>;

/** A row of `GET /api/jobs`. */
export const JobListItem = z.object({
  id: z.string(),
  name: z.string(),
  status: JobStatus,
  risk: RiskLevel,
  requestedBy: z.string(),
  targetGroup: z.string().nullable(),
  targets: z.number().int(),
  createdAt: Timestamp,
  startedAt: Timestamp.nullable(),
  finishedAt: Timestamp.nullable(),
  durationSeconds: z.number().nullable(),
  outcome: JobOutcome.nullable(),
  approval: JobApproval.nullable(),
  /** What started the job (a person, a retry, a template, a schedule, a trigger). */
  origin: JobOrigin,
  /** `check`: the job changed nothing and reports what its steps would change. */
  mode: JobMode,
});
export type JobListItem = z.infer<typeof JobListItem>;

/** `GET /api/jobs`, newest first; `next.before` asks for the following page. */
export const JobList = z.object({ jobs: z.array(JobListItem), next: z.object({ before: Timestamp }).nullable() });
export type JobList = z.infer<typeof JobList>;

/** A target a retry runs again, and the step it starts at (the steps before stand from the jobs named). */
export const RetriedTarget = z.object({
  target: z.string(),
  stepId: z.string(),
  stepName: z.string(),
  /** 1-based. */
  stepNumber: z.number().int(),
  /** By step id: the job each step it does not run again stands from. */
  carried: z.record(z.string(), z.string()),
  /** Its changes were undone, so it starts again at its first step. */
  rolledBack: z.boolean(),
});
export type RetriedTarget = z.infer<typeof RetriedTarget>;

/** How a job is linked to its retries: what it retries, what retried it, and what a retry of it would run now. */
export const JobRetry = z.object({
  /** The job this one retries, and the first of its lineage; null when it is no retry. */
  retryOf: z.string().nullable(),
  rootJobId: z.string().nullable(),
  /** Jobs that retry this one, oldest first. */
  retriedAs: z.array(z.object({ id: z.string(), status: JobStatus })),
  /** What `POST /api/jobs/:id/retry` would run now; empty when nothing can be retried. */
  available: z.array(RetriedTarget),
  /** Why a retry is not available now (finished without failures, still running, retried already), or null. */
  unavailable: z.string().nullable(),
  /** A retry job only: per target id, the step it started at and the jobs the steps before stand from. */
  resume: JobResume.nullable(),
});
export type JobRetry = z.infer<typeof JobRetry>;

/** The answer to `POST /api/jobs/:id/retry` (201): a new job, linked to the one retried. */
export const RetryCreated = JobCreated.extend({
  retryOf: z.string(),
  rootJobId: z.string(),
  retried: z.array(RetriedTarget),
});
export type RetryCreated = z.infer<typeof RetryCreated>;

/** `GET /api/jobs/:id`: the record, the plan, and the workflow's live progress when it answers. */
export const JobDetail = z.object({
  id: z.string(),
  name: z.string(),
  status: JobStatus,
  planHash: z.string(),
  risk: RiskLevel,
  requestedBy: z.string(),
  origin: JobOrigin,
  mode: JobMode,
  targetGroup: z.string().nullable(),
  request: z.string().nullable(),
  summary: PlanSummary.nullable(),
  createdAt: Timestamp,
  startedAt: Timestamp.nullable(),
  finishedAt: Timestamp.nullable(),
  error: RecordedError.nullable(),
  approval: JobApproval.nullable(),
  events: z.array(JobEventEntry),
  outcome: JobOutcome.nullable(),
  plan: Plan,
  targets: z.array(TargetName),
  progress: JobProgress.nullable(),
  /** Why `progress` is null: the workflow did not answer its query (no worker, or it is closed). */
  progressError: z.string().nullable(),
  retry: JobRetry,
  /** The W3C trace id (32 hex digits) of the request that submitted the job; null when it was not traced. */
  traceId: z.string().nullable(),
  links: JobLinks,
});
export type JobDetail = z.infer<typeof JobDetail>;

/** What every control route (approve, reject, pause, resume, cancel, decide) answers: the job's status after it. */
export const ControlAnswer = z.object({ status: JobStatus, message: z.string() });
export type ControlAnswer = z.infer<typeof ControlAnswer>;
