import type pg from 'pg';
import { CredentialSecret, credentialContext } from '@opsc/contracts';
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

/**
 * Key rotation without downtime. Executors already hold both keys (`[new, old]`); this publishes
 * the new public key (so new secrets are sealed for it), then re-wraps every data key still on
 * another key, in small transactions, and retires the old public key. Ciphertexts are untouched.
 */
export const rotateVaultKey = async (
  db: pg.Pool,
  keyring: Keyring,
  next: MasterKey,
  batchSize = 100,
): Promise<{ rewrapped: number }> => {
  const nextPublic = rawPublicKey(next.publicKey).toString('base64');
  await inTransaction(db, async (client) => {
    await client.query('UPDATE vault_keys SET retired_at = now() WHERE retired_at IS NULL AND key_id <> $1', [
      next.keyId,
    ]);
    await client.query(
      'INSERT INTO vault_keys (key_id, public_key) VALUES ($1, $2) ON CONFLICT (key_id) DO UPDATE SET retired_at = NULL',
      [next.keyId, nextPublic],
    );
  });
  let rewrapped = 0;
  for (;;) {
    const { rows } = await db.query<{ credential_id: string; tenant_id: string; sealed: unknown }>(
      `SELECT s.credential_id, c.tenant_id, s.sealed FROM credential_secrets s JOIN credentials c ON c.id = s.credential_id
       WHERE s.key_id <> $1 ORDER BY s.credential_id LIMIT $2`,
      [next.keyId, batchSize],
    );
    if (rows.length === 0) return { rewrapped };
    await inTransaction(db, async (client) => {
      for (const row of rows) {
        const sealed = rewrapSecret(
          SealedSecret.parse(row.sealed),
          keyring,
          next,
          credentialContext(row.tenant_id, row.credential_id),
        );
        await client.query(
          'UPDATE credential_secrets SET key_id = $2, sealed = $3, updated_at = now() WHERE credential_id = $1',
          [row.credential_id, sealed.keyId, JSON.stringify(sealed)],
        );
      }
    });
    rewrapped += rows.length;
  }
};
