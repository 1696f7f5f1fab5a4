import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { recordAudit } from '../audit.js';
import { inTransaction } from '../db.js';
import { IdentityError, type Actor } from './lifecycle.js';
import { hashPassword } from './secrets.js';

/** A password the server makes: 144 random bits, 24 URL-safe characters. */
export const generatePassword = (): string => randomBytes(18).toString('base64url');

/**
 * Sets a user's password, ends their sessions (whoever held one signs in again) and lifts a
 * sign-in lockout of the name. The audit entry says it happened and by whom, never the password.
 */
export const resetPassword = async (
  pool: pg.Pool,
  tenantId: string,
  username: string,
  password: string,
  actor: Actor & { generated: boolean },
): Promise<{ sessionsEnded: number }> => {
  const passwordHash = await hashPassword(password);
  return inTransaction(pool, async (db) => {
    const { rows } = await db.query<{ id: string; tenant: string }>(
      `UPDATE users u SET password_hash = $3 FROM tenants t
        WHERE u.tenant_id = $1 AND u.username = $2 AND t.id = u.tenant_id RETURNING u.id, t.name AS tenant`,
      [tenantId, username, passwordHash],
    );
    const user = rows[0];
    if (!user) throw new IdentityError('not-found', `no user ${username}`);
    const ended = (await db.query('DELETE FROM sessions WHERE user_id = $1', [user.id])).rowCount ?? 0;
    await db.query('DELETE FROM sign_in_failures WHERE tenant = $1 AND username = $2', [user.tenant, username]);
    await recordAudit(db, {
      tenantId,
      actor: actor.name,
      action: 'user.password-reset',
      objectType: 'user',
      objectId: username,
      ...(actor.sourceIp && { sourceIp: actor.sourceIp }),
      details: { generated: actor.generated, sessionsEnded: ended },
    });
    return { sessionsEnded: ended };
  });
};
