import { ErrorType, type ActionContext } from '@opsc/contracts';
import { RemoteFailure } from './remote-failure.js';

/*
 * Run markers: a change on a target is applied at most once per job, step and target, however
 * often Temporal retries the activity (an executor SIGKILLed mid-step, a connection lost). The
 * remote script itself writes the marker, atomically, when the operation has finished: its exit code
 * and facts. Every attempt first looks for the marker (under a lock, so a retry waits for an
 * earlier attempt still running there) and, when it is present, reports the recorded result
 * instead of running the operation again. Markers older than MARKER_RETENTION_DAYS are removed by
 * the script whenever it writes a new one.
 */

/** Days a marker is kept: far longer than any retry of a step. */
export const MARKER_RETENTION_DAYS = 7;

/** One path segment: letters, digits, `.`, `_`, `-`; no leading dot (no `.`/`..`, nothing hidden) and no trailing dot (Windows drops it). */
const SEGMENT = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,198}[A-Za-z0-9_-])?$/;

/** Where a marker lives, and what an attempt tells about itself in it. */
export interface RunMarkerKey {
  jobId: string;
  /**
   * A plan step id, `<stepId>.rollback` for its compensation, or `<stepId>.rerun-<n>` for re-run n
   * of it (decide `retry`): a deliberate run again is not an earlier attempt's to report. Step ids
   * have no dot, so none of these is another step's.
   */
  stepId: string;
  /** The inventory target id: several targets may share one host. */
  targetId: string;
  /** The Temporal attempt that writes the marker. */
  attempt: number;
}

/** The key of an action's marker; refuses ids that could not be one path segment each. */
export const runMarkerKey = (context: ActionContext, attempt: number): RunMarkerKey => {
  for (const [what, value] of [
    ['job id', context.jobId],
    ['step id', context.stepId],
    ['target id', context.target.id],
  ] as const) {
    if (!SEGMENT.test(value)) {
      throw new RemoteFailure(
        ErrorType.ValidationFailed,
        `the ${what} ${JSON.stringify(value.slice(0, 80))} cannot name a run marker (letters, digits, . _ - only)`,
      );
    }
  }
  if (!Number.isSafeInteger(attempt) || attempt < 1) throw new RangeError(`not an attempt number: ${attempt}`);
  const { rerun } = context;
  if (rerun !== undefined && (!Number.isSafeInteger(rerun) || rerun < 1 || rerun > 100))
    throw new RemoteFailure(ErrorType.ValidationFailed, `not a re-run number: ${String(rerun).slice(0, 20)}`);
  const stepId = rerun ? `${context.stepId}${RERUN_SEPARATOR}${rerun}` : context.stepId;
  return { jobId: context.jobId, stepId, targetId: context.target.id, attempt };
};

/** Between a step id and its re-run number in a re-run's marker key. */
export const RERUN_SEPARATOR = '.rerun-';

/** What an attempt says when an earlier one already did the work (the marker's time and attempt filled in by the script). */
export const ALREADY_DONE = 'already done by attempt';
