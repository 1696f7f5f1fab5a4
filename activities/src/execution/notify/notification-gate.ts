import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import {
  ErrorType,
  NotificationChannelConfig,
  NotificationEvent,
  isFinalJobStatus,
  notificationEventId,
  testNotificationId,
  type DeliverNotificationInput,
  type JobResult,
  type NotificationPayload,
} from '@opsc/contracts';
import { notificationText } from './notification-text.js';

/** Who scheduled the activity, as Temporal says (the input cannot). */
export interface NotificationCaller {
  workflowType: string;
  workflowId: string;
}

/** A delivery the gate admitted: the channel (settings, not its secret) and what to say. */
export interface AdmittedNotification {
  tenantId: string;
  channel: { id: string; name: string; config: NotificationChannelConfig };
  payload: NotificationPayload;
  jobId: string | null;
  testId: string | null;
}

/** Test requests older than this are not sent any more (an admin waits seconds for the answer). */
const TEST_TTL_MS = 60 * 60_000;

const refuse = (why: string): never => {
  throw ApplicationFailure.create({
    type: ErrorType.Forbidden,
    message: `the executor sends only the notifications of a job or test on record: ${why}`,
    nonRetryable: true,
  });
};

const notYet = (why: string): never => {
  throw ApplicationFailure.retryable(`not on the job's record yet: ${why}`, ErrorType.Unavailable);
};

interface JobRow {
  tenant_id: string;
  tenant: string;
  name: string;
  status: string;
  requested_by: string;
  status_entries: Record<string, number>;
  outcome: Omit<JobResult, 'jobId' | 'status'> | null;
  error_message: string | null;
  /** The template the job is a run of (its origin), whose subscriptions override the tenant's. */
  template_id: string | null;
  /** An undo of the job succeeded somewhere (its record in step_results). */
  undone: boolean;
}

/**
 * Whether the job's record says the event happened (the `n`th time): a workflow started straight in
 * Temporal under a notification's id announces nothing the job did not do, and each (event, n,
 * channel) is sent once (see the deliveries' claim). Not yet on record while the job runs: retried.
 */
const checkEvent = (job: JobRow, event: NotificationEvent, n: number): void => {
  const final = isFinalJobStatus(job.status);
  const entered = (status: string) => job.status_entries[status] ?? 0;
  const once = () => {
    if (n !== 1) refuse(`the job's ${event} notification is number 1, not ${n}`);
  };
  switch (event) {
    case 'approval_needed':
      once();
      if (entered('awaiting_approval') < 1) return final ? refuse('the job never waited for approval') : notYet(event);
      return;
    case 'awaiting_decision':
      if (entered('awaiting_decision') < n)
        return final ? refuse(`the job did not wait for a decision ${n} time(s)`) : notYet(event);
      return;
    case 'job_failed':
      once();
      if (!final) return notYet(event);
      if (job.status !== 'failed') refuse(`the job ended ${job.status}, not failed`);
      return;
    case 'rolled_back':
      once();
      if (!final) return notYet(event);
      if (!job.undone) refuse('the job undid nothing');
      return;
    case 'finished':
      once();
      if (!final) notYet(event);
      return;
  }
};

export interface NotificationGate {
  admit(input: DeliverNotificationInput, caller: NotificationCaller): Promise<AdmittedNotification>;
}

export const createNotificationGate = (pool: pg.Pool): NotificationGate => {
  const channelOf = async (channelId: string, tenantId: string) => {
    const { rows } = await pool.query<{ id: string; name: string; config: unknown; kind: string }>(
      'SELECT id, name, kind, config FROM notification_channels WHERE id = $1 AND tenant_id = $2',
      [channelId, tenantId],
    );
    const row = rows[0];
    if (!row) return refuse(`channel ${channelId} is not one of the tenant's`);
    const config = NotificationChannelConfig.safeParse({ ...(row.config as object), kind: row.kind });
    if (!config.success) return refuse(`channel ${row.name}'s settings do not parse`);
    return { id: row.id, name: row.name, config: config.data };
  };

  const admitJob = async (
    input: Extract<DeliverNotificationInput, { kind: 'job' }>,
    caller: NotificationCaller,
  ): Promise<AdmittedNotification> => {
    const event = NotificationEvent.safeParse(input.event);
    if (!event.success) return refuse('no such event');
    const n = input.n;
    if (!Number.isSafeInteger(n) || n < 1 || n > 1000) return refuse('the occurrence is not a number from 1 to 1000');
    const eventId = notificationEventId(String(input.jobId), event.data, n);
    if (caller.workflowType !== 'notifyJob' || caller.workflowId !== eventId)
      refuse(`the request came from ${caller.workflowType} ${caller.workflowId}, not from notifyJob ${eventId}`);
    const { rows } = await pool.query<JobRow>(
      `SELECT j.tenant_id, t.name AS tenant, j.name, j.status, j.requested_by, j.status_entries, j.outcome, j.error_message, j.origin->>'templateId' AS template_id,
              EXISTS (SELECT 1 FROM step_results r WHERE r.job_id = j.id AND r.step_id LIKE '%.rollback' AND r.status = 'succeeded') AS undone
         FROM jobs j JOIN tenants t ON t.id = j.tenant_id WHERE j.id = $1`,
      [input.jobId],
    );
    const job = rows[0];
    if (!job) return refuse(`there is no job ${input.jobId}`);
    // The subscription is checked too: a channel not hearing this event gets nothing.
    const subscribed = await pool.query(
      'SELECT 1 FROM notification_channels_for($1, $2, $3) AS c(id) WHERE c.id = $4',
      [job.tenant_id, job.template_id, event.data, input.channelId],
    );
    if (!subscribed.rowCount) refuse(`channel ${input.channelId} does not hear ${event.data}`);
    checkEvent(job, event.data, n);
    const channel = await channelOf(input.channelId, job.tenant_id);
    const payloadJob: NotificationPayload['job'] = {
      id: input.jobId,
      name: job.name,
      status: job.status,
      requestedBy: job.requested_by,
      ...(job.outcome && { targets: job.outcome.targets }),
      ...(job.error_message && job.status === 'failed' && { error: job.error_message.slice(0, 500) }),
    };
    return {
      tenantId: job.tenant_id,
      channel,
      jobId: input.jobId,
      testId: null,
      payload: {
        id: eventId,
        event: event.data,
        occurredAt: new Date().toISOString(),
        tenant: job.tenant,
        job: payloadJob,
        text: notificationText(event.data, payloadJob, channel.name),
      },
    };
  };

  const admitTest = async (
    input: Extract<DeliverNotificationInput, { kind: 'test' }>,
    caller: NotificationCaller,
  ): Promise<AdmittedNotification> => {
    const eventId = testNotificationId(String(input.testId));
    if (caller.workflowType !== 'notifyTest' || caller.workflowId !== eventId)
      refuse(`the request came from ${caller.workflowType} ${caller.workflowId}, not from notifyTest ${eventId}`);
    const { rows } = await pool.query<{ tenant_id: string; tenant: string; channel_id: string; created_at: Date }>(
      `SELECT n.tenant_id, t.name AS tenant, n.channel_id, n.created_at
         FROM notification_tests n JOIN tenants t ON t.id = n.tenant_id WHERE n.id::text = $1`,
      [input.testId],
    );
    const test = rows[0];
    if (!test) return refuse(`no test ${input.testId} was asked for`);
    if (test.channel_id !== input.channelId) refuse(`test ${input.testId} is for another channel`);
    if (Date.now() - test.created_at.getTime() > TEST_TTL_MS) refuse(`test ${input.testId} is over an hour old`);
    const channel = await channelOf(input.channelId, test.tenant_id);
    return {
      tenantId: test.tenant_id,
      channel,
      jobId: null,
      testId: input.testId,
      payload: {
        id: eventId,
        event: 'test',
        occurredAt: new Date().toISOString(),
        tenant: test.tenant,
        job: null,
        text: notificationText('test', null, channel.name),
      },
    };
  };

  return {
    admit: (input, caller) => {
      if (input.kind === 'job') return admitJob(input, caller);
      if (input.kind === 'test') return admitTest(input, caller);
      return Promise.reject(refuse('unknown notification kind'));
    },
  };
};
