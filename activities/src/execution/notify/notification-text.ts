import type { NotificationEvent, NotificationPayload } from '@opsc/contracts';

const counts = (job: NonNullable<NotificationPayload['job']>): string =>
  job.targets
    ? ` (${job.targets.completed} of ${job.targets.total} target(s) completed, ${job.targets.failed} failed, ${job.targets.rolledBack} rolled back)`
    : '';

/** One line a person reads in Slack or a mail subject: what happened to which job. */
export const notificationText = (
  event: NotificationEvent | 'test',
  job: NotificationPayload['job'],
  channel: string,
): string => {
  if (event === 'test' || !job) return `Test notification from OpsConductor to channel "${channel}": it works.`;
  const name = `Job "${job.name}" (${job.id})`;
  switch (event) {
    case 'approval_needed':
      return `${name} needs approval; requested by ${job.requestedBy}.`;
    case 'awaiting_decision':
      return `${name} waits for a decision (continue or roll back): too many targets failed.`;
    case 'job_failed':
      return `${name} failed${job.error ? `: ${job.error}` : ''}${counts(job)}.`;
    case 'rolled_back':
      return `${name} rolled back ${job.targets?.rolledBack ?? 0} target(s)${counts(job)}.`;
    case 'finished':
      return `${name} finished: ${job.status}${counts(job)}.`;
  }
};
