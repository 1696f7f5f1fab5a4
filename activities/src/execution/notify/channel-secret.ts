import type pg from 'pg';
import { NotificationSecret, notificationContext } from '@opsc/contracts';
import { SealedSecret } from '@opsc/contracts/sealing';
import { openSecret, VaultError, type Keyring } from '../vault/keyring.js';

/** Opens a channel's secret for the delivery at hand; nothing keeps it. */
export type ChannelSecretOpener = (tenantId: string, channelId: string) => Promise<NotificationSecret>;

export const createChannelSecretOpener =
  (pool: pg.Pool, keyring: Keyring): ChannelSecretOpener =>
  async (tenantId, channelId) => {
    const { rows } = await pool.query<{ sealed: unknown }>(
      `SELECT s.sealed FROM notification_channel_secrets s JOIN notification_channels c ON c.id = s.channel_id
        WHERE c.id = $1 AND c.tenant_id = $2`,
      [channelId, tenantId],
    );
    const row = rows[0];
    if (!row) throw new VaultError(`channel ${channelId} has no stored secret`);
    const parsed = SealedSecret.safeParse(row.sealed);
    if (!parsed.success) throw new VaultError(`channel ${channelId}'s sealed secret is malformed`);
    const plaintext = openSecret(parsed.data, keyring, notificationContext(tenantId, channelId));
    let value: unknown;
    try {
      value = JSON.parse(plaintext);
    } catch {
      // JSON.parse quotes its input in its message: never let that be the secret.
      throw new VaultError(`channel ${channelId}'s secret is not JSON`);
    }
    const secret = NotificationSecret.safeParse(value);
    if (!secret.success) throw new VaultError(`channel ${channelId}'s secret is not a notification secret`);
    return secret.data;
  };
