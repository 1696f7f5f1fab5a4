import { z } from 'zod';
import { StorableText } from '../plain-text.js';
import { CronExpression, ScheduleOverlap, TimeZone } from '../schedule-spec.js';
import { TemplateRunParams } from '../template-schema.js';
import { Timestamp } from './common.js';

// Requests.

const Uuid = z.uuid({ message: 'must be an id (a UUID)' });

const ScheduleSettings = {
  description: StorableText.trim().max(2_000),
  /** A version of the template; null: the latest at each action. */
  templateVersion: z.number().int().min(1).nullable(),
  /** The template's parameters, checked like a run's when saved and again at each action. */
  params: TemplateRunParams,
  /** The user whose role runs the template (their role at each action). */
  ownerId: Uuid,
  /** Five-field cron expressions (minute hour day-of-month month day-of-week), in `timeZone`. */
  cronExpressions: z.array(CronExpression).max(10),
  /** Every so many seconds (the smallest allowed is the orchestrator's `SCHEDULE_MIN_INTERVAL_SECONDS`). */
  intervalSeconds: z.number().int().min(1).max(31_536_000).nullable(),
  /** An IANA time zone name (`Europe/Berlin`); the cron expressions are read in it. */
  timeZone: TimeZone,
  overlap: ScheduleOverlap,
  /** After an outage (Temporal's or the orchestrator's), actions missed within this window still run. */
  catchupWindowSeconds: z.number().int().min(10).max(31_536_000),
  paused: z.boolean(),
  /** Why it is paused (shown in the list and in Temporal UI). */
  note: StorableText.trim().max(500),
};

const needsWhen = (body: { cronExpressions?: string[]; intervalSeconds?: number | null }, ctx: z.RefinementCtx) => {
  if (!body.cronExpressions?.length && !body.intervalSeconds)
    ctx.addIssue({ code: 'custom', path: ['cronExpressions'], message: 'give cron expressions or an interval' });
};

/** `POST /api/schedules` (admin). */
export const CreateScheduleBody = z
  .strictObject({
    name: StorableText.trim().min(1, { message: 'name the schedule' }).max(200),
    templateId: Uuid,
    description: ScheduleSettings.description.default(''),
    templateVersion: ScheduleSettings.templateVersion.default(null),
    params: ScheduleSettings.params.default({}),
    /** Absent: the admin who creates it. */
    ownerId: Uuid.optional(),
    cronExpressions: ScheduleSettings.cronExpressions.default([]),
    intervalSeconds: ScheduleSettings.intervalSeconds.default(null),
    timeZone: ScheduleSettings.timeZone.default('UTC'),
    overlap: ScheduleSettings.overlap.default('skip'),
    catchupWindowSeconds: ScheduleSettings.catchupWindowSeconds.default(300),
    paused: ScheduleSettings.paused.default(false),
    note: ScheduleSettings.note.default(''),
  })
  .superRefine(needsWhen);
export type CreateScheduleBody = z.infer<typeof CreateScheduleBody>;

/** `PATCH /api/schedules/:id` (admin): what is given changes; the Temporal schedule follows. */
export const UpdateScheduleBody = z.strictObject({
  name: StorableText.trim().min(1, { message: 'name the schedule' }).max(200).optional(),
  description: ScheduleSettings.description.optional(),
  templateVersion: ScheduleSettings.templateVersion.optional(),
  params: ScheduleSettings.params.optional(),
  ownerId: ScheduleSettings.ownerId.optional(),
  cronExpressions: ScheduleSettings.cronExpressions.optional(),
  intervalSeconds: ScheduleSettings.intervalSeconds.optional(),
  timeZone: ScheduleSettings.timeZone.optional(),
  overlap: ScheduleSettings.overlap.optional(),
  catchupWindowSeconds: ScheduleSettings.catchupWindowSeconds.optional(),
});
export type UpdateScheduleBody = z.infer<typeof UpdateScheduleBody>;

/** `POST /api/schedules/:id/pause` and `/resume` (admin): an optional note saying why. */
export const PauseScheduleBody = z.strictObject({ note: ScheduleSettings.note.optional() });
export type PauseScheduleBody = z.infer<typeof PauseScheduleBody>;

// Answers.

/** One action of the schedule: the job it started, why it started none, or `pending` while its start is under way. */
export const ScheduleRun = z.object({
  actionId: z.string(),
  scheduledAt: Timestamp.nullable(),
  startedAt: Timestamp.nullable(),
  outcome: z.enum(['started', 'refused', 'pending']),
  jobId: z.string().nullable(),
  reason: z.string().nullable(),
});
export type ScheduleRun = z.infer<typeof ScheduleRun>;

export const ScheduleView = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  template: z.object({ id: z.string(), name: z.string() }),
  templateVersion: z.number().int().nullable(),
  params: TemplateRunParams,
  owner: z.object({ id: z.string(), username: z.string(), disabled: z.boolean() }),
  cronExpressions: z.array(z.string()),
  intervalSeconds: z.number().int().nullable(),
  timeZone: z.string(),
  overlap: ScheduleOverlap,
  catchupWindowSeconds: z.number().int(),
  paused: z.boolean(),
  note: z.string(),
  /**
   * The Temporal schedule: its id, and `ok`, or `unreachable` when Temporal did not answer (next
   * runs are then unknown). A missing or different one is re-made from this record when read.
   */
  temporal: z.object({ scheduleId: z.string(), state: z.enum(['ok', 'unreachable']) }),
  /** The next action times Temporal computed (none while paused). */
  nextRuns: z.array(Timestamp),
  /** The latest actions, newest first. */
  recentRuns: z.array(ScheduleRun),
  createdBy: z.string(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type ScheduleView = z.infer<typeof ScheduleView>;

export const ScheduleList = z.object({ schedules: z.array(ScheduleView) });
export type ScheduleList = z.infer<typeof ScheduleList>;
