import { z } from 'zod';
import { JobStatus, StepStatus } from './results.js';

export const TargetCounts = z.object({
  total: z.number().int(),
  completed: z.number().int(),
  failed: z.number().int(),
  running: z.number().int(),
  pending: z.number().int(),
});
export type TargetCounts = z.infer<typeof TargetCounts>;

export const LogEntry = z.object({
  at: z.string(),
  level: z.enum(['info', 'warn', 'error']),
  stepId: z.string().optional(),
  target: z.string().optional(),
  message: z.string(),
});
export type LogEntry = z.infer<typeof LogEntry>;

export const StepProgress = z.object({
  id: z.string(),
  name: z.string(),
  status: StepStatus,
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  targets: TargetCounts,
});
export type StepProgress = z.infer<typeof StepProgress>;

/** A job's live state, as the `progress` query answers it. Small enough to poll every second. */
export const JobProgress = z.object({
  jobId: z.string(),
  status: JobStatus,
  /** 1-based index of the step running now (or the last one run); 0 before the first. */
  currentStep: z.number().int(),
  totalSteps: z.number().int(),
  stepName: z.string().nullable(),
  /** Target counts over the whole job: each target counted once, by its worst state. */
  targetProgress: TargetCounts.extend({ currentTargets: z.array(z.string()) }),
  steps: z.array(StepProgress),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  /** Seconds left, from step timings so far; null until one step has finished. */
  estimatedSecondsRemaining: z.number().nullable(),
  /** The most recent log lines (bounded). */
  logs: z.array(LogEntry),
});
export type JobProgress = z.infer<typeof JobProgress>;
