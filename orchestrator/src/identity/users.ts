import type pg from 'pg';
import { hashPassword, newBearerSecret, sha256Hex } from './secrets.js';
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

const PRINCIPAL_COLUMNS = `u.id AS "userId", u.username, u.tenant_id AS "tenantId", u.role`;

export const principalForToken = async (db: pg.Pool, token: string): Promise<Principal | undefined> => {
  const { rows } = await db.query<Omit<Principal, 'via'>>(
    `UPDATE api_tokens t SET last_used_at = now() FROM users u
     WHERE t.token_hash = $1 AND t.user_id = u.id AND t.revoked_at IS NULL AND t.expires_at > now()
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

/** The user a sign-in names, looked up by tenant name and user name; `tenantId` alone when only the tenant exists. */
export interface SignInAccount {
  tenantId: string | null;
  user?: Omit<Principal, 'via'> & { passwordHash: string | null; disabled: boolean };
}

export const findSignInAccount = async (db: pg.Pool, tenant: string, username: string): Promise<SignInAccount> => {
  const { rows } = await db.query<{
    tenantId: string;
    userId: string | null;
    username: string;
    role: Role;
    passwordHash: string | null;
    disabled: boolean;
  }>(
    `SELECT t.id AS "tenantId", u.id AS "userId", u.username, u.role, u.password_hash AS "passwordHash", u.disabled
     FROM tenants t LEFT JOIN users u ON u.tenant_id = t.id AND u.username = $2 WHERE t.name = $1`,
    [tenant, username],
  );
  const row = rows[0];
  if (!row) return { tenantId: null };
  if (!row.userId) return { tenantId: row.tenantId };
  const { userId, ...rest } = row;
  return { tenantId: row.tenantId, user: { ...rest, userId } };
};

export const createSession = async (
  db: pg.Pool,
  userId: string,
  ttlHours: number,
  sourceIp: string | undefined,
): Promise<string> => {
  const sessionId = newBearerSecret('sess');
  await db.query(
    `INSERT INTO sessions (id_hash, user_id, expires_at, source_ip) VALUES ($1, $2, now() + make_interval(hours => $3), $4)`,
    [sha256Hex(sessionId), userId, ttlHours, sourceIp ?? null],
  );
  return sessionId;
};

export const endSession = async (db: pg.Pool, sessionId: string): Promise<void> => {
  await db.query('DELETE FROM sessions WHERE id_hash = $1', [sha256Hex(sessionId)]);
};
