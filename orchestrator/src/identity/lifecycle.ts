import type pg from 'pg';
import { recordAudit } from '../audit.js';
import { inTransaction } from '../db.js';
import type { Role } from './roles.js';
import type { TokenView } from '@opsc/contracts';
import { listTokens, revokeToken } from './tokens.js';

/** A user as the tenant's admins see it. */
export interface UserView {
  username: string;
  displayName: string;
  role: Role;
  disabled: boolean;
  createdAt: string;
  /** While failed sign-ins lock the name. */
  lockedUntil: string | null;
}

/** Who made a change, for the audit log. */
export interface Actor {
  name: string;
  sourceIp?: string;
}

/** A change the lifecycle refuses: no such user in the tenant, or a tenant about to lose its last admin. */
export class IdentityError extends Error {
  constructor(
    readonly kind: 'not-found' | 'last-admin',
    message: string,
  ) {
    super(message);
  }
}

const notFound = (username: string) => new IdentityError('not-found', `no user ${username}`);

const USER_COLUMNS = `u.username, u.display_name AS "displayName", u.role, u.disabled, u.created_at AS "createdAt",
  (SELECT f.locked_until FROM sign_in_failures f WHERE f.tenant = t.name AND f.username = u.username AND f.locked_until > now()) AS "lockedUntil"`;

export const listUsers = async (db: pg.Pool | pg.PoolClient, tenantId: string): Promise<UserView[]> =>
  (
    await db.query<UserView>(
      `SELECT ${USER_COLUMNS} FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.tenant_id = $1 ORDER BY u.username`,
      [tenantId],
    )
  ).rows;

const USERNAME = /^[a-z0-9][a-z0-9._@-]{0,99}$/;

/** The user's id in the tenant; another tenant's user is as missing as one that never was. */
const userId = async (db: pg.PoolClient, tenantId: string, username: string): Promise<string> => {
  if (!USERNAME.test(username)) throw notFound(username);
  const { rows } = await db.query<{ id: string }>('SELECT id FROM users WHERE tenant_id = $1 AND username = $2', [
    tenantId,
    username,
  ]);
  if (!rows[0]) throw notFound(username);
  return rows[0].id;
};

/**
 * One lifecycle change inside a transaction that holds the tenant's row, so that two admins
 * demoting each other at once cannot both succeed; `work` runs, then the tenant must still have an
 * enabled admin or nothing of it lands.
 */
const guarded = <T>(
  pool: pg.Pool,
  tenantId: string,
  username: string,
  work: (db: pg.PoolClient, id: string) => Promise<T>,
): Promise<T> =>
  inTransaction(pool, async (db) => {
    await db.query('SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE', [tenantId]);
    const result = await work(db, await userId(db, tenantId, username));
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM users WHERE tenant_id = $1 AND role = 'admin' AND NOT disabled`,
      [tenantId],
    );
    if (rows[0]!.n === 0)
      throw new IdentityError(
        'last-admin',
        `${username} is the last enabled admin of the tenant; make another user admin first`,
      );
    return result;
  });

export interface UserChange {
  role?: Role;
  disabled?: boolean;
}

/**
 * Changes a user's role and/or disables or enables them, audited as one entry per change.
 * Disabling ends their sessions; their tokens are refused while they are disabled (each request
 * reads the user), and work again if they are enabled, unless revoked or expired by then.
 */
export const changeUser = async (
  pool: pg.Pool,
  tenantId: string,
  username: string,
  change: UserChange,
  actor: Actor,
): Promise<UserView> =>
  guarded(pool, tenantId, username, async (db, id) => {
    const { rows } = await db.query<{ role: Role; disabled: boolean }>(
      'SELECT role, disabled FROM users WHERE id = $1',
      [id],
    );
    const before = rows[0]!;
    const audit = (action: string, details?: Record<string, unknown>) =>
      recordAudit(db, {
        tenantId,
        actor: actor.name,
        action,
        objectType: 'user',
        objectId: username,
        ...(actor.sourceIp && { sourceIp: actor.sourceIp }),
        ...(details && { details }),
      });
    if (change.role && change.role !== before.role) {
      await db.query('UPDATE users SET role = $2 WHERE id = $1', [id, change.role]);
      await audit('user.role', { from: before.role, to: change.role });
    }
    if (change.disabled !== undefined && change.disabled !== before.disabled) {
      await db.query('UPDATE users SET disabled = $2 WHERE id = $1', [id, change.disabled]);
      const ended = change.disabled ? (await db.query('DELETE FROM sessions WHERE user_id = $1', [id])).rowCount : 0;
      await audit(
        change.disabled ? 'user.disable' : 'user.enable',
        change.disabled ? { sessionsEnded: ended } : undefined,
      );
    }
    const view = (
      await db.query<UserView>(
        `SELECT ${USER_COLUMNS} FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.id = $1`,
        [id],
      )
    ).rows[0]!;
    return view;
  });

/** Deletes a user with their sessions and tokens (the audit log keeps their name). */
export const deleteUser = async (pool: pg.Pool, tenantId: string, username: string, actor: Actor): Promise<void> =>
  guarded(pool, tenantId, username, async (db, id) => {
    const { rows } = await db.query<{ role: Role }>('DELETE FROM users WHERE id = $1 RETURNING role', [id]);
    await recordAudit(db, {
      tenantId,
      actor: actor.name,
      action: 'user.delete',
      objectType: 'user',
      objectId: username,
      ...(actor.sourceIp && { sourceIp: actor.sourceIp }),
      details: { role: rows[0]!.role },
    });
  });

/** A user's tokens (for their admins). */
export const userTokens = async (pool: pg.Pool, tenantId: string, username: string): Promise<TokenView[]> =>
  inTransaction(pool, async (db) => listTokens(db, await userId(db, tenantId, username)));

/**
 * Revokes a token of a user of the tenant, audited with the token's id and name. False when the
 * user has no such token.
 */
export const revokeUserToken = async (
  pool: pg.Pool,
  tenantId: string,
  username: string,
  tokenId: string,
  actor: Actor,
): Promise<boolean> =>
  inTransaction(pool, async (db) => {
    const revoked = await revokeToken(db, await userId(db, tenantId, username), tokenId);
    if (!revoked) return false;
    if (revoked.revoked) {
      await recordAudit(db, {
        tenantId,
        actor: actor.name,
        action: 'token.revoke',
        objectType: 'api_token',
        objectId: tokenId,
        ...(actor.sourceIp && { sourceIp: actor.sourceIp }),
        details: { name: revoked.name, user: username },
      });
    }
    return true;
  });
