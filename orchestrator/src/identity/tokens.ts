import type pg from 'pg';
import type { TokenView } from '@opsc/contracts';
import { newBearerSecret, sha256Hex } from './secrets.js';

/** The expiry of a token created without one, unless the orchestrator is configured otherwise. */
export const DEFAULT_TOKEN_DAYS = 90;

export interface IssuedToken {
  id: string;
  /** Shown once; only its SHA-256 is stored. */
  token: string;
  name: string;
  prefix: string;
  expiresAt: Date;
}

/** Issues an API token for a user. Every token expires: `expiresAt`, or `DEFAULT_TOKEN_DAYS` from now. */
export const issueApiToken = async (
  db: pg.Pool | pg.PoolClient,
  userId: string,
  name: string,
  expiresAt?: Date,
): Promise<string> =>
  (await issueToken(db, userId, name, expiresAt ?? new Date(Date.now() + DEFAULT_TOKEN_DAYS * 86_400_000))).token;

export const issueToken = async (
  db: pg.Pool | pg.PoolClient,
  userId: string,
  name: string,
  expiresAt: Date,
): Promise<IssuedToken> => {
  const token = newBearerSecret('opsc');
  const prefix = token.slice(0, 12);
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO api_tokens (user_id, name, token_hash, prefix, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
    [userId, name, sha256Hex(token), prefix, expiresAt],
  );
  return { id: rows[0]!.id, token, name, prefix, expiresAt };
};

const TOKEN_COLUMNS = `id, name, prefix, created_at AS "createdAt", expires_at AS "expiresAt", last_used_at AS "lastUsedAt", revoked_at AS "revokedAt"`;

/** A user's tokens, newest first, revoked and expired ones included (for the record). */
export const listTokens = async (db: pg.Pool | pg.PoolClient, userId: string): Promise<TokenView[]> =>
  (
    await db.query<TokenView>(
      `SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC, id`,
      [userId],
    )
  ).rows;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Revokes one of a user's tokens; it is refused from the next request on. Undefined when the user
 * has no such token; `revoked: false` when it was revoked already (nothing changes).
 */
export const revokeToken = async (
  db: pg.Pool | pg.PoolClient,
  userId: string,
  tokenId: string,
): Promise<{ name: string; revoked: boolean } | undefined> => {
  if (!UUID.test(tokenId)) return undefined;
  const { rows } = await db.query<{ name: string; was: Date | null }>(
    `UPDATE api_tokens t SET revoked_at = coalesce(t.revoked_at, now()) FROM api_tokens old
     WHERE t.id = $1 AND t.user_id = $2 AND old.id = t.id RETURNING t.name, old.revoked_at AS was`,
    [tokenId, userId],
  );
  const row = rows[0];
  return row && { name: row.name, revoked: row.was === null };
};
