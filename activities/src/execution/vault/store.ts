import type pg from 'pg';
import { CredentialSecret, credentialContext, notificationContext } from '@opsc/contracts';
import { rawPublicKey, SealedSecret } from '@opsc/contracts/sealing';
import { openSecret, rewrapSecret, VaultError, type Keyring, type MasterKey } from './keyring.js';

const inTransaction = async (db: pg.Pool, work: (client: pg.PoolClient) => Promise<void>): Promise<void> => {
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    await work(client);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
};

/** Publishes the keyring's current public key if no key is published yet (first start). */
export const publishVaultKey = async (db: pg.Pool, keyring: Keyring): Promise<'published' | 'present' | 'foreign'> => {
  const { rows } = await db.query<{ key_id: string }>('SELECT key_id FROM vault_keys WHERE retired_at IS NULL');
  const current = rows[0]?.key_id;
  if (current === undefined) {
    await db.query('INSERT INTO vault_keys (key_id, public_key) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
      keyring.current.keyId,
      rawPublicKey(keyring.current.publicKey).toString('base64'),
    ]);
    return 'published';
  }
  // A published key this executor cannot open with means secrets it will be asked to use are lost to it.
  return keyring.byId.has(current) ? 'present' : 'foreign';
};

/** A credential's sealed secret as stored: ciphertext only, useless without the vault key. */
export interface SealedCredential {
  tenantId: string;
  username: string | null;
  sealed: unknown;
}

/** Reads a credential's sealed secret; opens nothing. */
export const readSealedCredential = async (db: pg.Pool, credentialId: string): Promise<SealedCredential> => {
  const { rows } = await db.query<{ tenant_id: string; username: string | null; sealed: unknown }>(
    `SELECT c.tenant_id, c.username, s.sealed FROM credentials c JOIN credential_secrets s ON s.credential_id = c.id WHERE c.id = $1`,
    [credentialId],
  );
  const row = rows[0];
  if (!row) throw new VaultError(`credential ${credentialId} has no stored secret`);
  return { tenantId: row.tenant_id, username: row.username, sealed: row.sealed };
};

/** Opens a sealed secret read by `readSealedCredential`, for immediate use. */
export const openSealedCredential = (
  keyring: Keyring,
  credentialId: string,
  stored: SealedCredential,
): { username: string | null; secret: CredentialSecret } => {
  const plaintext = openSecret(
    SealedSecret.parse(stored.sealed),
    keyring,
    credentialContext(stored.tenantId, credentialId),
  );
  return { username: stored.username, secret: CredentialSecret.parse(JSON.parse(plaintext)) };
};

/** Opens a credential's secret for immediate use. The executor is the only caller. */
export const openCredential = async (
  db: pg.Pool,
  keyring: Keyring,
  credentialId: string,
): Promise<{ username: string | null; secret: CredentialSecret }> =>
  openSealedCredential(keyring, credentialId, await readSealedCredential(db, credentialId));

/** A sealed secret the rotation re-wraps: where it is stored, and the context it is bound to. */
interface StoredSecret {
  /** Names it in an error (never the secret): e.g. `credential cis-admin (<id>)`. */
  what: string;
  table: 'credential_secrets' | 'notification_channel_secrets';
  idColumn: 'credential_id' | 'channel_id';
  id: string;
  context: string;
  sealed: unknown;
}

/** Every sealed secret not yet on `keyId`: credentials' and notification channels', locked for the rotation. */
const secretsToRewrap = async (client: pg.PoolClient, keyId: string): Promise<StoredSecret[]> => {
  const credentials = await client.query<{ id: string; name: string; tenant_id: string; sealed: unknown }>(
    `SELECT s.credential_id AS id, c.name, c.tenant_id, s.sealed FROM credential_secrets s
       JOIN credentials c ON c.id = s.credential_id WHERE s.key_id <> $1 ORDER BY 1 FOR UPDATE OF s`,
    [keyId],
  );
  const channels = await client.query<{ id: string; name: string; tenant_id: string; sealed: unknown }>(
    `SELECT s.channel_id AS id, c.name, c.tenant_id, s.sealed FROM notification_channel_secrets s
       JOIN notification_channels c ON c.id = s.channel_id WHERE s.key_id <> $1 ORDER BY 1 FOR UPDATE OF s`,
    [keyId],
  );
  return [
    ...credentials.rows.map((r) => ({
      what: `credential ${r.name} (${r.id})`,
      table: 'credential_secrets' as const,
      idColumn: 'credential_id' as const,
      id: r.id,
      context: credentialContext(r.tenant_id, r.id),
      sealed: r.sealed,
    })),
    ...channels.rows.map((r) => ({
      what: `notification channel ${r.name} (${r.id})`,
      table: 'notification_channel_secrets' as const,
      idColumn: 'channel_id' as const,
      id: r.id,
      context: notificationContext(r.tenant_id, r.id),
      sealed: r.sealed,
    })),
  ];
};

/** Re-wraps every secret not yet on `next` for it; the first one that cannot be re-wrapped throws. */
const rewrapAll = async (client: pg.PoolClient, keyring: Keyring, next: MasterKey, why: string): Promise<number> => {
  let rewrapped = 0;
  for (const secret of await secretsToRewrap(client, next.keyId)) {
    let sealed: SealedSecret;
    try {
      sealed = rewrapSecret(SealedSecret.parse(secret.sealed), keyring, next, secret.context);
    } catch (err) {
      // The keyring's and zod's messages name keys and fields, never a secret's value.
      throw new VaultError(`the ${secret.what} cannot be re-wrapped, ${why}: ${(err as Error).message}`);
    }
    await client.query(
      `UPDATE ${secret.table} SET key_id = $2, sealed = $3, updated_at = now() WHERE ${secret.idColumn} = $1`,
      [secret.id, sealed.keyId, JSON.stringify(sealed)],
    );
    rewrapped++;
  }
  return rewrapped;
};

const auditRotation = (client: pg.PoolClient, next: MasterKey, details: Record<string, unknown>) =>
  client.query(
    `INSERT INTO audit_log (actor, action, object_type, object_id, details) VALUES ('executor', 'vault.rotate', 'vault_key', $1, $2)`,
    [next.keyId, JSON.stringify(details)],
  );

/** Passes after the rotation for secrets sealed for the old key by a save that raced it. */
const STRAGGLER_PASSES = 3;

/**
 * Key rotation without downtime. Executors already hold both keys (`[new, old]`); this publishes
 * the new public key (so new secrets are sealed for it), re-wraps the data key of every sealed
 * secret still on another key (credentials and notification channels) and retires the old public
 * key, all in one transaction with its audit entry: a secret that cannot be re-wrapped leaves
 * everything as it was, so the old key is never retired while something still needs it.
 * Ciphertexts are untouched. A secret the orchestrator sealed for the old key while the rotation
 * ran (it read the key before the commit) is re-wrapped by a short pass after it, audited too.
 */
export const rotateVaultKey = async (
  db: pg.Pool,
  keyring: Keyring,
  next: MasterKey,
): Promise<{ rewrapped: number }> => {
  const nextPublic = rawPublicKey(next.publicKey).toString('base64');
  let rewrapped = 0;
  await inTransaction(db, async (client) => {
    await client.query('UPDATE vault_keys SET retired_at = now() WHERE retired_at IS NULL AND key_id <> $1', [
      next.keyId,
    ]);
    await client.query(
      'INSERT INTO vault_keys (key_id, public_key) VALUES ($1, $2) ON CONFLICT (key_id) DO UPDATE SET retired_at = NULL',
      [next.keyId, nextPublic],
    );
    rewrapped = await rewrapAll(client, keyring, next, 'nothing was rotated');
    await auditRotation(client, next, { rewrapped });
  });
  for (let pass = 0; pass < STRAGGLER_PASSES; pass++) {
    let late = 0;
    await inTransaction(db, async (client) => {
      late = await rewrapAll(client, keyring, next, 'the rotation itself is done; keep the old key and run it again');
      if (late > 0) await auditRotation(client, next, { rewrapped: late, late: true });
    });
    if (late === 0) break;
    rewrapped += late;
  }
  return { rewrapped };
};
