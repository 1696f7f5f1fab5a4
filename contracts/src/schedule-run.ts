/**
 * What a Temporal Schedule's action starts: the `runSchedule` workflow on the orchestrator queue,
 * whose activities run the schedule's template as its owner. Its argument names the schedule only;
 * the template, parameters and owner are read from PostgreSQL (the record), so no value of a
 * parameter ever enters workflow history.
 */
export const RUN_SCHEDULE_WORKFLOW = 'runSchedule';

export interface RunScheduleInput {
  tenantId: string;
  scheduleId: string;
}

/** What one action of a schedule did: the job it started, or why it started none. */
export interface ScheduledStart {
  outcome: 'started' | 'refused';
  jobId: string | null;
  reason: string | null;
}

/** The orchestrator-queue activities of `runSchedule`. Nothing here executes anything. */
export interface ScheduleActivities {
  /**
   * Starts the action's job, once: the job id is derived from the action's workflow id (read from
   * the activity's own context, never from the input), and a retried attempt answers what the first
   * did. Refuses (recorded and audited, not retried) an action Temporal's schedule did not start, a
   * deleted or paused schedule, a disabled owner, or an owner whose role cannot run the template.
   */
  startScheduledJob(input: RunScheduleInput): Promise<ScheduledStart>;
  /** Waits (heartbeating) until the job's workflow has closed, so the overlap policy sees a running action. */
  awaitScheduledJob(input: { jobId: string }): Promise<void>;
  /** Cancels the job as the schedule's owner (overlap policy `cancel_other` cancelled its action). */
  cancelScheduledJob(input: RunScheduleInput & { jobId: string }): Promise<void>;
}
