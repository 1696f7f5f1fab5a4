import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import { ErrorType } from '@opsc/contracts';
import type { AdmittedNotification } from './notification-gate.js';

/** A claim nobody renewed for this long belongs to an attempt that is gone (the delivery's own time limit is shorter). */
const STALE_CLAIM = '90 seconds';

/**
 * Claims one (notification, channel) for this attempt. `delivered` when it was delivered before
 * (not sent again); else it is this attempt's to send. Another workflow sending the same one at
 * this moment (a forged duplicate) makes this attempt wait (retryable), never send twice.
 * `claimant` names the activity (workflow run and activity id): its own retry takes over at once.
 */
export const claimDelivery = async (
  pool: pg.Pool,
  admitted: AdmittedNotification,
  claimant: string,
): Promise<'claimed' | 'delivered'> => {
  const { rows } = await pool.query<{ status: string }>(
    `INSERT INTO notification_deliveries AS d (event_id, channel_id, tenant_id, job_id, test_id, event, status, attempts, last_error)
       VALUES ($1, $2, $3, $4, $5, $6, 'sending', 1, $7)
     ON CONFLICT (event_id, channel_id) DO UPDATE SET status = 'sending', attempts = d.attempts + 1, last_error = $7, updated_at = now()
       WHERE d.status <> 'delivered'
         AND (d.status <> 'sending' OR d.last_error = $7 OR d.updated_at < now() - $8::interval)
     RETURNING status`,
    [
      admitted.payload.id,
      admitted.channel.id,
      admitted.tenantId,
      admitted.jobId,
      admitted.testId,
      admitted.payload.event,
      `claimed by ${claimant}`,
      STALE_CLAIM,
    ],
  );
  if (rows.length > 0) return 'claimed';
  const { rows: current } = await pool.query<{ status: string }>(
    'SELECT status FROM notification_deliveries WHERE event_id = $1 AND channel_id = $2',
    [admitted.payload.id, admitted.channel.id],
  );
  if (current[0]?.status === 'delivered') return 'delivered';
  throw ApplicationFailure.retryable(
    `notification ${admitted.payload.id} to channel "${admitted.channel.name}" is being sent by another attempt`,
    ErrorType.Conflict,
  );
};

/** How the attempt ended, for the job's notifications list: delivered, to be retried, or failed for good (the reason holds no secret). */
export const settleDelivery = async (
  pool: pg.Pool,
  admitted: AdmittedNotification,
  outcome: { status: 'delivered' } | { status: 'retrying' | 'failed'; error: string },
): Promise<void> => {
  await pool.query(
    `UPDATE notification_deliveries SET status = $3, last_error = $4, updated_at = now(),
            delivered_at = CASE WHEN $3 = 'delivered' THEN now() ELSE delivered_at END
      WHERE event_id = $1 AND channel_id = $2 AND status <> 'delivered'`,
    [
      admitted.payload.id,
      admitted.channel.id,
      outcome.status,
      outcome.status === 'delivered' ? null : outcome.error.slice(0, 1000),
    ],
  );
};
