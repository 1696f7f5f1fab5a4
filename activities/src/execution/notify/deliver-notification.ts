import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import { ErrorType, type DeliverNotificationInput, type NotificationReceipt } from '@opsc/contracts';
import type { EgressGuard } from '../egress/egress-guard.js';
import { VaultError } from '../vault/keyring.js';
import type { ChannelSecretOpener } from './channel-secret.js';
import { claimDelivery, settleDelivery } from './deliveries.js';
import type { AdmittedNotification, NotificationGate } from './notification-gate.js';
import { sendEmail } from './send-email.js';
import { sendSlack, sendWebhook } from './send-http.js';

/** What delivering notifications needs: the gate, the channels' secrets, the tenant's egress policy. */
export interface NotificationExecution {
  pool: pg.Pool;
  gate: NotificationGate;
  openSecret: ChannelSecretOpener;
  /** Judges receivers by the tenant's allow list (loopback refused unless allowed). */
  egress: EgressGuard;
}

const send = async (deps: NotificationExecution, admitted: AdmittedNotification): Promise<void> => {
  let secret;
  try {
    secret = await deps.openSecret(admitted.tenantId, admitted.channel.id);
  } catch (err) {
    if (err instanceof VaultError)
      throw ApplicationFailure.nonRetryable(
        `channel "${admitted.channel.name}"'s secret cannot be opened: ${err.message}`,
        ErrorType.AuthFailed,
      );
    throw err;
  }
  const { config } = admitted.channel;
  if (config.kind === 'webhook' && secret.kind === 'webhook')
    return sendWebhook(deps.egress, admitted.tenantId, { url: config.url, secret: secret.secret }, admitted.payload);
  if (config.kind === 'slack' && secret.kind === 'slack')
    return sendSlack(deps.egress, admitted.tenantId, secret.url, admitted.payload);
  if (config.kind === 'email' && secret.kind === 'email')
    return sendEmail(deps.egress, admitted.tenantId, config, secret.password, admitted.payload);
  throw ApplicationFailure.nonRetryable(
    `channel "${admitted.channel.name}"'s secret is for another kind of channel`,
    ErrorType.ValidationFailed,
  );
};

/**
 * One notification to one channel. The gate admits only a genuine notification of a job or test on
 * record; each (notification, channel) is claimed in PostgreSQL so it is sent once, and each
 * attempt's outcome is written there for the job's notifications list.
 */
export const createDeliverNotification =
  (deps: NotificationExecution) =>
  async (input: DeliverNotificationInput): Promise<NotificationReceipt> => {
    const { info } = Context.current();
    const caller = { workflowType: info.workflowType ?? '', workflowId: info.workflowExecution?.workflowId ?? '' };
    const admitted = await deps.gate.admit(input, caller);
    const claimant = `${info.workflowExecution?.runId ?? ''}/${info.activityId}`;
    if ((await claimDelivery(deps.pool, admitted, claimant)) === 'delivered')
      return { status: 'duplicate', eventId: admitted.payload.id };
    Context.current().heartbeat();
    try {
      await send(deps, admitted);
    } catch (err) {
      const failure =
        err instanceof ApplicationFailure
          ? err
          : ApplicationFailure.retryable(`delivery failed: ${(err as Error).message}`, ErrorType.Internal);
      await settleDelivery(deps.pool, admitted, {
        status: failure.nonRetryable ? 'failed' : 'retrying',
        error: `${failure.type ?? 'Error'}: ${failure.message}`,
      });
      throw failure;
    }
    await settleDelivery(deps.pool, admitted, { status: 'delivered' });
    return { status: 'delivered', eventId: admitted.payload.id };
  };
