import { z } from 'zod';
import { JobProgress } from '../progress.js';
import { Timestamp } from './common.js';

/*
 * `GET /api/jobs/:id/events` is a stream of Server-Sent Events: each event's name and the JSON its
 * `data` carries.
 */

/** `log`: an output line as the executor stored it; the event id is its `seq`, for Last-Event-ID. */
export const OutputLine = z.object({
  seq: z.number().int(),
  stepId: z.string(),
  target: z.string(),
  targetId: z.string(),
  attempt: z.number().int(),
  /** Re-run n of the step (decide `retry`, docs/retry.md); absent for its first run. */
  rerun: z.number().int().min(1).optional(),
  /** `progress`: a file transfer's bytes so far, written by the executor only (`parseTransferProgress`). */
  stream: z.enum(['stdout', 'stderr', 'progress']),
  at: Timestamp,
  line: z.string(),
});
export type OutputLine = z.infer<typeof OutputLine>;

/** `progress-unavailable`: the workflow did not answer its progress query. */
export const ProgressUnavailable = z.object({ message: z.string() });
export type ProgressUnavailable = z.infer<typeof ProgressUnavailable>;

/** `end`: the job is over (its final status, or null when it could not be read); the stream closes. */
export const StreamEnd = z.object({ status: z.string().nullable() });
export type StreamEnd = z.infer<typeof StreamEnd>;

/** Each event of the stream by name; `progress` carries a `JobProgress` snapshot whenever it changes. */
export const JOB_EVENTS = {
  log: OutputLine,
  progress: JobProgress,
  'progress-unavailable': ProgressUnavailable,
  end: StreamEnd,
} as const;
