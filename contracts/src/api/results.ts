import { z } from 'zod';
import { RecordedError, TargetName, Timestamp } from './common.js';

/** One step on one target, with its full stored output (`GET /api/jobs/:id/results`). */
export const StepResultView = z.object({
  stepId: z.string(),
  target: TargetName,
  status: z.string().nullable(),
  attempt: z.number().int().nullable(),
  /** Which run of the step this result is of: 0 for its first, n for re-run n (decide `retry`). */
  rerun: z.number().int(),
  method: z.string().nullable(),
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
  httpStatus: z.number().int().nullable(),
  stdout: z.string().nullable(),
  stderr: z.string().nullable(),
  stdoutTruncated: z.boolean().nullable(),
  stderrTruncated: z.boolean().nullable(),
  stdoutBytes: z.number().int().nullable(),
  stderrBytes: z.number().int().nullable(),
  facts: z.record(z.string(), z.string()).nullable(),
  error: RecordedError.nullable(),
  startedAt: Timestamp.nullable(),
  finishedAt: Timestamp.nullable(),
});
export type StepResultView = z.infer<typeof StepResultView>;

/** A page of `GET /api/jobs/:id/results`; `next.after` asks for the following one. */
export const StepResultPage = z.object({
  results: z.array(StepResultView),
  next: z.object({ after: z.string() }).nullable(),
});
export type StepResultPage = z.infer<typeof StepResultPage>;
