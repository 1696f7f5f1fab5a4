import type pg from 'pg';
import { hashPassword, newBearerSecret, sha256Hex, verifyPassword } from './secrets.js';
import type { Principal, Role } from './roles.js';

export interface NewUser {
  tenantId: string;
  username: string;
  role: Role;
  displayName?: string;
  password?: string;
}

export const ensureTenant = async (db: pg.Pool | pg.PoolClient, name: string): Promise<string> => {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO tenants (name) VALUES ($1) ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id`,
    [name],
  );
  return rows[0]!.id;
};

export const createUser = async (db: pg.Pool | pg.PoolClient, user: NewUser): Promise<string> => {
  const passwordHash = user.password ? await hashPassword(user.password) : null;
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO users (tenant_id, username, display_name, role, password_hash) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
    [user.tenantId, user.username, user.displayName ?? '', user.role, passwordHash],
  );
  return rows[0]!.id;
};

/** Issues an API token for a user; the token is returned once and only its hash is stored. */
export const issueApiToken = async (db: pg.Pool | pg.PoolClient, userId: string, name: string, expiresAt?: Date): Promise<string> => {
  const token = newBearerSecret('opsc');
  await db.query(`INSERT INTO api_tokens (user_id, name, token_hash, prefix, expires_at) VALUES ($1, $2, $3, $4, $5)`, [
    userId,
    name,
    sha256Hex(token),
    token.slice(0, 12),
    expiresAt ?? null,
  ]);
  return token;
};

const PRINCIPAL_COLUMNS = `u.id AS "userId", u.username, u.tenant_id AS "tenantId", u.role`;

export const principalForToken = async (db: pg.Pool, token: string): Promise<Principal | undefined> => {
  const { rows } = await db.query<Omit<Principal, 'via'>>(
    `UPDATE api_tokens t SET last_used_at = now() FROM users u
     WHERE t.token_hash = $1 AND t.user_id = u.id AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
       AND NOT u.disabled
     RETURNING ${PRINCIPAL_COLUMNS}`,
    [sha256Hex(token)],
  );
  return rows[0] && { ...rows[0], via: 'token' };
};

export const principalForSession = async (db: pg.Pool, sessionId: string): Promise<Principal | undefined> => {
  const { rows } = await db.query<Omit<Principal, 'via'>>(
    `SELECT ${PRINCIPAL_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.id_hash = $1 AND s.expires_at > now() AND NOT u.disabled`,
    [sha256Hex(sessionId)],
  );
  return rows[0] && { ...rows[0], via: 'session' };
};

/** Checks a password; the same work is done for unknown users, so timing does not reveal them. */
export const checkPassword = async (db: pg.Pool, username: string, password: string): Promise<Omit<Principal, 'via'> | undefined> => {
  const { rows } = await db.query<Omit<Principal, 'via'> & { password_hash: string | null }>(
    `SELECT ${PRINCIPAL_COLUMNS}, u.password_hash FROM users u WHERE u.username = $1 AND NOT u.disabled`,
    [username],
  );
  const row = rows[0];
  const ok = await verifyPassword(password, row?.password_hash ?? 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA');
  if (!row || !row.password_hash || !ok) return undefined;
  const { password_hash: _hash, ...principal } = row;
  return principal;
};

export const createSession = async (db: pg.Pool, userId: string, ttlHours: number, sourceIp: string | undefined): Promise<string> => {
  const sessionId = newBearerSecret('sess');
  await db.query(`INSERT INTO sessions (id_hash, user_id, expires_at, source_ip) VALUES ($1, $2, now() + make_interval(hours => $3), $4)`, [
    sha256Hex(sessionId),
    userId,
    ttlHours,
    sourceIp ?? null,
  ]);
  return sessionId;
};

export const endSession = async (db: pg.Pool, sessionId: string): Promise<void> => {
  await db.query('DELETE FROM sessions WHERE id_hash = $1', [sha256Hex(sessionId)]);
};
