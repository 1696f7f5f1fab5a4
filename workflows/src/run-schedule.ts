import { CancellationScope, isCancellation, proxyActivities } from '@temporalio/workflow';
import type { RunScheduleInput, ScheduleActivities, ScheduledStart } from '@opsc/contracts';
import { BOOKKEEPING } from './bookkeeping.js';

/** Starting the job: retried without limit, so an orchestrator (or database) that is down delays the start, never loses it. */
const starter = proxyActivities<Pick<ScheduleActivities, 'startScheduledJob' | 'cancelScheduledJob'>>({
  ...BOOKKEEPING,
  startToCloseTimeout: '2m',
});

/**
 * Waiting for the job: a long activity that heartbeats, so a dead orchestrator is noticed within
 * 30 s and the wait resumes on another (or the restarted) one; the history stays a few events long
 * however long the job runs.
 */
const waiter = proxyActivities<Pick<ScheduleActivities, 'awaitScheduledJob'>>({
  ...BOOKKEEPING,
  startToCloseTimeout: '1 day',
  heartbeatTimeout: '30s',
});

/**
 * One action of a schedule (id `schedule-<scheduleId>-<time>`, started by the Temporal Schedule):
 * starts the template's job through an activity and lives as long as the job does, so the
 * schedule's overlap policy applies to jobs. Cancelled by the policy `cancel_other`, it cancels its
 * job as the schedule's owner. It runs nothing itself.
 */
export async function runSchedule(input: RunScheduleInput): Promise<ScheduledStart> {
  const start = await starter.startScheduledJob(input);
  const jobId = start.jobId;
  if (start.outcome !== 'started' || jobId === null) return start;
  try {
    await waiter.awaitScheduledJob({ jobId });
  } catch (err) {
    if (!isCancellation(err)) throw err;
    await CancellationScope.nonCancellable(() => starter.cancelScheduledJob({ ...input, jobId }));
    throw err;
  }
  return start;
}
