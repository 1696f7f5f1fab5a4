import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type pg from 'pg';
import { ErrorType, NotificationEvent, TaskQueue, notificationEventId, type NotifyJobInput } from '@opsc/contracts';

/**
 * The channels a job's event goes to (the tenant's subscriptions; a template's override once jobs
 * carry their template). Asked by the notification's own workflow only: its id names the job and
 * event. Names nothing secret: channel ids only.
 */
export const createNotificationChannels =
  (pool: pg.Pool) =>
  async (input: { jobId: string; event: NotificationEvent }): Promise<string[]> => {
    const event = NotificationEvent.safeParse(input.event);
    const workflowId = Context.current().info.workflowExecution?.workflowId ?? '';
    const prefix = event.success ? `${notificationEventId(String(input.jobId), event.data, 0).slice(0, -1)}` : null;
    if (!prefix || !workflowId.startsWith(prefix) || !/^\d+$/.test(workflowId.slice(prefix.length)))
      throw ApplicationFailure.nonRetryable(
        `the channels of job ${String(input.jobId).slice(0, 100)}'s notifications are asked by its notification workflow only`,
        ErrorType.Forbidden,
      );
    const { rows } = await pool.query<{ id: string }>(
      `SELECT c.id::text AS id FROM jobs j CROSS JOIN LATERAL notification_channels_for(j.tenant_id, j.origin->>'templateId', $2) AS c(id)
        WHERE j.id = $1 ORDER BY 1`,
      [input.jobId, event.data],
    );
    return rows.map((r) => r.id);
  };

/**
 * Starts a job's notification as a workflow of its own (not a child: nothing ties its life to the
 * job's), so the job never waits for a receiver and the delivery outlives the job. The id is the
 * event's: a second start (a retried activity, a continued run) finds it started and is a no-op.
 */
export const createStartNotification =
  (client: Client) =>
  async (input: NotifyJobInput): Promise<void> => {
    const workflowId = Context.current().info.workflowExecution?.workflowId ?? '';
    const event = NotificationEvent.safeParse(input.event);
    if (workflowId !== input.jobId || !event.success || !Number.isSafeInteger(input.n) || input.n < 1)
      throw ApplicationFailure.nonRetryable(
        `the notifications of job ${String(input.jobId).slice(0, 100)} are started by its own workflow only`,
        ErrorType.Forbidden,
      );
    try {
      await client.workflow.start('notifyJob', {
        taskQueue: TaskQueue.orchestrator,
        workflowId: notificationEventId(input.jobId, event.data, input.n),
        args: [{ jobId: input.jobId, event: event.data, n: input.n } satisfies NotifyJobInput],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  };
