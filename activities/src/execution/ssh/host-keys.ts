import { createHash } from 'node:crypto';
import type pg from 'pg';

/** A host key as it is pinned: algorithm, the key blob in base64 (as in known_hosts) and its SHA256 fingerprint. */
export interface HostKey {
  algorithm: string;
  publicKey: string;
  fingerprint: string;
}

export type PinSource = 'first-contact' | 'enrolment';

/** Where pinned keys live (the `ssh_host_keys` table). */
export interface HostKeyStore {
  get(targetId: string): Promise<HostKey | null>;
  /** Pins a key unless one is pinned already; returns the key pinned afterwards (the earlier one wins). */
  pin(targetId: string, key: HostKey, source: PinSource): Promise<HostKey>;
}

/** Reads the algorithm name at the start of an SSH key blob and computes the OpenSSH fingerprint. */
export const describeHostKey = (blob: Buffer): HostKey => {
  const length = blob.length >= 4 ? blob.readUInt32BE(0) : 0;
  const algorithm =
    length > 0 && length < 64 && blob.length >= 4 + length ? blob.subarray(4, 4 + length).toString('ascii') : 'unknown';
  const fingerprint = `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
  return { algorithm, publicKey: blob.toString('base64'), fingerprint };
};

/** Host key algorithms to offer so the server presents the pinned key's type (an RSA key signs with rsa-sha2-*). */
export const hostKeyAlgorithmsFor = (algorithm: string): string[] =>
  algorithm === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [algorithm];

export const createPgHostKeyStore = (pool: pg.Pool): HostKeyStore => {
  const get = async (targetId: string): Promise<HostKey | null> => {
    const { rows } = await pool.query<{ algorithm: string; public_key: string; fingerprint: string }>(
      'SELECT algorithm, public_key, fingerprint FROM ssh_host_keys WHERE target_id = $1',
      [targetId],
    );
    const row = rows[0];
    return row ? { algorithm: row.algorithm, publicKey: row.public_key, fingerprint: row.fingerprint } : null;
  };
  return {
    get,
    async pin(targetId, key, source) {
      await pool.query(
        `INSERT INTO ssh_host_keys (target_id, algorithm, public_key, fingerprint, source) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (target_id) DO NOTHING`,
        [targetId, key.algorithm, key.publicKey, key.fingerprint, source],
      );
      const pinned = await get(targetId);
      if (!pinned) throw new Error(`the host key of target ${targetId} could not be pinned (target deleted?)`);
      return pinned;
    },
  };
};
