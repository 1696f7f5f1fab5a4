import { isCancellation, patched, proxyActivities } from '@temporalio/workflow';
import {
  ErrorType,
  TaskQueue,
  notificationEventId,
  testNotificationId,
  type ExecutorActivities,
  type NotificationEvent,
  type NotificationReceipt,
  type NotifyJobInput,
  type NotifyTestInput,
  type OrchestratorActivities,
} from '@opsc/contracts';
import { BOOKKEEPING } from './bookkeeping.js';

const bookkeeping = proxyActivities<Pick<OrchestratorActivities, 'notificationChannels'>>(BOOKKEEPING);
/** Starting a notification takes a moment; a Temporal that does not answer is asked again, within a minute at most. */
const starter = proxyActivities<Pick<OrchestratorActivities, 'startNotification'>>({
  ...BOOKKEEPING,
  startToCloseTimeout: '10s',
  retry: { ...BOOKKEEPING.retry, maximumAttempts: 6 },
});

/**
 * Delivery on the executor: a receiver that is down is tried again (every 30 s at most) for three
 * days; the executor fails for good what will not get better (a refused password, a 4xx answer).
 * An attempt that dies with its executor is noticed by its missing heartbeat within 20 s.
 */
const delivery = proxyActivities<Pick<ExecutorActivities, 'deliverNotification'>>({
  taskQueue: TaskQueue.executor,
  startToCloseTimeout: '60s',
  heartbeatTimeout: '20s',
  scheduleToCloseTimeout: '3 days',
  retry: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    nonRetryableErrorTypes: [
      ErrorType.Forbidden,
      ErrorType.AuthFailed,
      ErrorType.ValidationFailed,
      ErrorType.EgressDenied,
    ],
  },
});

/** What a notification workflow reports: per channel, delivered or why not (no secret is ever in it). */
export interface NotifyOutcome {
  eventId: string;
  channels: { channelId: string; status: NotificationReceipt['status'] | 'failed'; error?: string }[];
}

const deliverAll = async (
  eventId: string,
  channelIds: string[],
  send: (channelId: string) => Promise<NotificationReceipt>,
): Promise<NotifyOutcome> => {
  const settled = await Promise.allSettled(channelIds.map(send));
  return {
    eventId,
    channels: settled.map((s, i) =>
      s.status === 'fulfilled'
        ? { channelId: channelIds[i]!, status: s.value.status }
        : {
            channelId: channelIds[i]!,
            status: 'failed' as const,
            error: ((s.reason as Error).cause as Error | undefined)?.message ?? (s.reason as Error).message,
          },
    ),
  };
};

/** One event of one job to every channel subscribed to it (id `notify-<jobId>-<event>-<n>`), started by the job's workflow. */
export async function notifyJob(input: NotifyJobInput): Promise<NotifyOutcome> {
  const { jobId, event, n } = input;
  const channels = await bookkeeping.notificationChannels({ jobId, event });
  return deliverAll(notificationEventId(jobId, event, n), channels, (channelId) =>
    delivery.deliverNotification({ kind: 'job', jobId, event, n, channelId }),
  );
}

/** An admin's test notification to one channel (id `notify-test-<testId>`), started by the API. */
export async function notifyTest(input: NotifyTestInput): Promise<NotifyOutcome> {
  return deliverAll(testNotificationId(input.testId), [input.channelId], (channelId) =>
    delivery.deliverNotification({ kind: 'test', testId: input.testId, channelId }),
  );
}

/**
 * Starts the delivery of a job's event in a workflow of its own (through an activity, not as a child:
 * nothing ties its life to the job's) and returns once it has started: the job never waits for a
 * receiver, and the delivery outlives the job. The id is the event's, so a second start (a retried
 * activity, a continued run) is a no-op. A start that fails after its retries is logged and the job
 * goes on. Jobs that started before notifications existed replay without it (patch `notifications`).
 */
export const notify = async (
  jobId: string,
  event: NotificationEvent,
  n: number,
  log: (message: string) => void,
): Promise<void> => {
  if (!patched('notifications')) return;
  try {
    await starter.startNotification({ jobId, event, n });
  } catch (err) {
    if (isCancellation(err)) throw err;
    log(
      `The ${event} notification was not started: ${((err as Error).cause as Error | undefined)?.message ?? (err as Error).message}`,
    );
  }
};
