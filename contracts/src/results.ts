import { z } from 'zod';
import { ErrorType } from './errors.js';
import { TargetRef } from './target.js';

/** What a process did. Output is capped; full output is stored in PostgreSQL by the executor. */
export const CommandOutput = z.object({
  kind: z.literal('command'),
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
  stdout: z.string(),
  stderr: z.string(),
  stdoutTruncated: z.boolean(),
  stderrTruncated: z.boolean(),
  durationMs: z.number().nonnegative(),
  /** What an operation found out, machine-readable: a version, a backup path, a checksum. */
  facts: z.record(z.string(), z.string()).optional(),
});
export type CommandOutput = z.infer<typeof CommandOutput>;

/** What an HTTP endpoint answered. The body is capped. */
export const HttpOutput = z.object({
  kind: z.literal('http'),
  status: z.number().int(),
  contentType: z.string().nullable(),
  body: z.string(),
  bodyTruncated: z.boolean(),
  durationMs: z.number().nonnegative(),
});
export type HttpOutput = z.infer<typeof HttpOutput>;

export const ActionOutput = z.discriminatedUnion('kind', [CommandOutput, HttpOutput]);
export type ActionOutput = z.infer<typeof ActionOutput>;

export const StepStatus = z.enum(['pending', 'running', 'succeeded', 'failed', 'skipped']);
export type StepStatus = z.infer<typeof StepStatus>;

/** The outcome of one step on one target. */
export const StepResult = z.object({
  stepId: z.string(),
  target: TargetRef,
  status: z.enum(['succeeded', 'failed', 'skipped']),
  output: ActionOutput.optional(),
  error: z.object({ type: z.enum(ErrorType), message: z.string() }).optional(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
});
export type StepResult = z.infer<typeof StepResult>;

/**
 * Where a job stands. `awaiting_approval`: a person must approve the plan first; `awaiting_decision`:
 * too many targets failed and a person must choose to go on or roll back; `rolling_back`: undoing
 * changes. The last five are final.
 */
export const JobStatus = z.enum([
  'queued',
  'awaiting_approval',
  'running',
  'paused',
  'awaiting_decision',
  'rolling_back',
  'completed',
  'failed',
  'cancelled',
  'rejected',
]);
export type JobStatus = z.infer<typeof JobStatus>;

export const FINAL_JOB_STATUSES: ReadonlySet<JobStatus> = new Set(['completed', 'failed', 'cancelled', 'rejected']);
export const isFinalJobStatus = (status: string): boolean => FINAL_JOB_STATUSES.has(status as JobStatus);

/** A host whose rollback did not undo everything: which of its changes were undone (step ids, newest first) and which were not. */
export const HalfChangedHost = z.object({
  target: z.string(),
  undone: z.array(z.string()),
  notUndone: z.array(z.string()),
});
export type HalfChangedHost = z.infer<typeof HalfChangedHost>;

/**
 * What a finished job's workflow returns: counts, not results (those are in PostgreSQL), so the
 * result stays small at any fleet size.
 */
export const JobResult = z.object({
  jobId: z.string(),
  status: JobStatus,
  targets: z.object({
    total: z.number().int(),
    completed: z.number().int(),
    failed: z.number().int(),
    rolledBack: z.number().int(),
    rollbackFailed: z.number().int(),
  }),
  /** Compensations that failed: each one is a host left half-changed, for a person to look at. */
  compensationFailures: z.number().int(),
  /** The half-changed hosts (bounded), with what was and was not undone on each. */
  halfChanged: z.array(HalfChangedHost).optional(),
});
export type JobResult = z.infer<typeof JobResult>;
