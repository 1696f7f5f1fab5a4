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

export const JobStatus = z.enum(['queued', 'running', 'completed', 'failed', 'cancelled']);
export type JobStatus = z.infer<typeof JobStatus>;

/** What a finished job returns. */
export const JobResult = z.object({
  jobId: z.string(),
  status: JobStatus,
  results: z.array(StepResult),
});
export type JobResult = z.infer<typeof JobResult>;
