import type { JobResult, JobStatus } from '@opsc/contracts';
import type { JobState } from './job-state.js';

export type JobOutcome = Omit<JobResult, 'jobId' | 'status'>;

/**
 * How a job ended, from its state: rejected (or never approved), cancelled, failed (a target failed,
 * the job stopped, or an undo failed) or completed; and the count of each target's end.
 */
export function outcomeOf(
  state: JobState,
  targetCount: number,
  jobTargetCount: number,
): { status: JobStatus; outcome: JobOutcome } {
  const { data } = state;
  const states = data.targetStates.slice(0, jobTargetCount);
  let failedTargets = false;
  for (let t = 0; t < targetCount; t++) failedTargets ||= state.hasFailed(t);
  const status: JobStatus =
    data.approval.status === 'rejected' || data.approval.status === 'timed_out'
      ? 'rejected'
      : data.cancel
        ? 'cancelled'
        : failedTargets || data.stop || data.rollback.failed > 0
          ? 'failed'
          : 'completed';
  const count = (s: string) => states.filter((x) => x === s).length;
  const outcome = {
    targets: {
      total: states.length,
      completed: count('completed'),
      failed: count('failed') + count('cancelled'),
      rolledBack: count('rolled_back'),
      rollbackFailed: count('rollback_failed'),
    },
    compensationFailures: data.rollback.failed,
    halfChanged: data.rollback.halfChanged ?? [],
  };
  return { status, outcome };
}
