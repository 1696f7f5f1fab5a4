import { z } from 'zod';

/** A step a retried target does not run again: the job it succeeded in, and what it reported there. */
export const ResumedStep = z.object({
  /** The job whose run of the step stands on the target (the retried job, or one before it). */
  jobId: z.string().min(1).max(200),
  /** What the step reported there (`step_results.facts`): its undo is filled with these. */
  facts: z.record(z.string(), z.string()).nullable(),
});
export type ResumedStep = z.infer<typeof ResumedStep>;

/** Where one target of a retry job starts, and the steps before that it carries. */
export const ResumedTarget = z.object({
  /** Index into the plan's steps of the first step this job runs on the target. */
  start: z.number().int().min(0),
  /** By step id: the target's steps before `start` that stand from an earlier job. */
  done: z.record(z.string(), ResumedStep),
});
export type ResumedTarget = z.infer<typeof ResumedTarget>;

/**
 * A retry job's resumption, fixed when the API creates it (and recorded in `jobs.resume`): for each
 * of its targets (by inventory target id; the executor's own column under its id), where it starts.
 * Part of the workflow's input, so the run stays deterministic; the executor's job gate reads the
 * recorded copy and the linked jobs' own results, never this input.
 */
export const JobResume = z.object({
  /** The job this one retries. */
  retryOf: z.string().min(1).max(200),
  /** The first job of the lineage (same plan, same plan hash). */
  rootJobId: z.string().min(1).max(200),
  targets: z.record(z.string(), ResumedTarget),
});
export type JobResume = z.infer<typeof JobResume>;
