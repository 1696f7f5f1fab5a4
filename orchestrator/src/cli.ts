/**
 * Administration from a shell with the orchestrator's DATABASE_URL, for the platform's operators
 * (`npm run create-admin`, `npm run users`). It acts on the database directly, so it works when no
 * admin of a tenant can, and audits each change as `cli:<login name>`.
 *
 *   cli.js create-admin --tenant <name> --username <name> [--password-stdin] [--token-days <n>]
 *   cli.js users        --tenant <name>
 *   cli.js set-role     --tenant <name> --username <name> --role viewer|operator|approver|admin
 *   cli.js disable | enable | delete | unlock --tenant <name> --username <name>
 *   cli.js tokens       --tenant <name> --username <name>
 *   cli.js revoke-token --tenant <name> --username <name> --id <token id>
 *
 * There is no default account and no default password.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { recordAudit } from './audit.js';
import { inTransaction } from './db.js';
import { clearFailures } from './identity/account-lockout.js';
import {
  changeUser,
  deleteUser,
  IdentityError,
  listUsers,
  revokeUserToken,
  userTokens,
  type Actor,
} from './identity/lifecycle.js';
import { ROLES, type Role } from './identity/roles.js';
import { DEFAULT_TOKEN_DAYS, issueToken } from './identity/tokens.js';
import { createUser, ensureTenant } from './identity/users.js';

const parse = () =>
  parseArgs({
    allowPositionals: true,
    options: {
      tenant: { type: 'string' },
      username: { type: 'string' },
      role: { type: 'string' },
      id: { type: 'string' },
      'password-stdin': { type: 'boolean', default: false },
      'token-days': { type: 'string' },
    },
  });
type Options = ReturnType<typeof parse>['values'];

const COMMANDS = [
  'create-admin',
  'users',
  'set-role',
  'disable',
  'enable',
  'delete',
  'unlock',
  'tokens',
  'revoke-token',
] as const;
type Command = (typeof COMMANDS)[number];
const usage = `usage: cli.js <${COMMANDS.join('|')}> --tenant <name> [--username <name>] [--role <role>] [--id <token id>] [--password-stdin] [--token-days <n>]`;

class UsageError extends Error {}

const loginName = (): string => {
  try {
    return process.env.USER || os.userInfo().username;
  } catch {
    return 'unknown';
  }
};

const minute = (d: Date | string | null): string => (d ? `${new Date(d).toISOString().slice(0, 16)}Z` : 'never');

const tenantId = async (pool: pg.Pool, tenant: string): Promise<string> => {
  const { rows } = await pool.query<{ id: string }>('SELECT id FROM tenants WHERE name = $1', [tenant]);
  if (!rows[0]) throw new UsageError(`no tenant ${tenant}`);
  return rows[0].id;
};

const createAdmin = async (
  pool: pg.Pool,
  actor: Actor,
  tenant: string,
  username: string,
  days: number,
  passwordStdin: boolean,
): Promise<string> => {
  const password = passwordStdin ? readFileSync(0, 'utf8').replace(/\r?\n$/, '') : undefined;
  if (password !== undefined && password.length < 12)
    throw new UsageError('the password must be at least 12 characters');
  try {
    const issued = await inTransaction(pool, async (client) => {
      const id = await ensureTenant(client, tenant);
      const userId = await createUser(client, { tenantId: id, username, role: 'admin', ...(password && { password }) });
      await recordAudit(client, {
        tenantId: id,
        actor: actor.name,
        action: 'user.create',
        objectType: 'user',
        objectId: username,
        details: { role: 'admin' },
      });
      return issueToken(client, userId, 'created by create-admin', new Date(Date.now() + days * 86_400_000));
    });
    return `admin ${username} created in tenant ${tenant}\nAPI token (shown once): ${issued.token}\nexpires ${minute(issued.expiresAt)} (in ${days} days)\n`;
  } catch (err) {
    if ((err as { code?: string }).code === '23505')
      throw new UsageError(`username ${username} is taken; nothing was created`);
    throw err;
  }
};

const run = async (pool: pg.Pool, command: Command, values: Options, actor: Actor): Promise<string> => {
  const { tenant, username, role, id } = values;
  if (!tenant) throw new UsageError(usage);
  if (command === 'users') {
    const users = await listUsers(pool, await tenantId(pool, tenant));
    return users
      .map(
        (u) =>
          `${u.username.padEnd(24)} ${u.role.padEnd(8)} ${u.disabled ? 'disabled' : 'enabled '} created ${minute(u.createdAt)}${u.lockedUntil ? `  locked until ${minute(u.lockedUntil)}` : ''}\n`,
      )
      .join('');
  }
  if (!username) throw new UsageError(usage);
  if (command === 'create-admin') {
    const days =
      values['token-days'] === undefined
        ? Number(process.env.API_TOKEN_DEFAULT_DAYS ?? DEFAULT_TOKEN_DAYS)
        : Number(values['token-days']);
    if (!Number.isInteger(days) || days < 1 || days > 3650)
      throw new UsageError('--token-days must be a whole number of days from 1 to 3650');
    return createAdmin(pool, actor, tenant, username, days, values['password-stdin'] === true);
  }
  const tid = await tenantId(pool, tenant);
  switch (command) {
    case 'set-role': {
      if (!role || !(ROLES as readonly string[]).includes(role))
        throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
      await changeUser(pool, tid, username, { role: role as Role }, actor);
      return `${username} is ${role}\n`;
    }
    case 'disable':
    case 'enable':
      await changeUser(pool, tid, username, { disabled: command === 'disable' }, actor);
      return `${username} is ${command}d${command === 'disable' ? '; their sessions ended and their tokens are refused' : ''}\n`;
    case 'delete':
      await deleteUser(pool, tid, username, actor);
      return `${username} deleted, with their sessions and tokens\n`;
    case 'unlock':
      // The name may be locked whether or not the user exists (see account-lockout.ts).
      await clearFailures(pool, tenant, username);
      await recordAudit(pool, {
        tenantId: tid,
        actor: actor.name,
        action: 'user.unlock',
        objectType: 'user',
        objectId: username,
      });
      return `${username} may sign in again\n`;
    case 'tokens': {
      const tokens = await userTokens(pool, tid, username);
      const state = (t: (typeof tokens)[number]) =>
        t.revokedAt ? 'revoked' : new Date(t.expiresAt) <= new Date() ? 'expired' : 'active';
      return tokens
        .map(
          (t) =>
            `${t.id}  ${state(t).padEnd(7)}  ${t.prefix}…  created ${minute(t.createdAt)}  expires ${minute(t.expiresAt)}  last used ${minute(t.lastUsedAt)}  ${t.name}\n`,
        )
        .join('');
    }
    case 'revoke-token':
      if (!id) throw new UsageError('--id is required (see the tokens command)');
      if (!(await revokeUserToken(pool, tid, username, id, actor)))
        throw new UsageError(`${username} has no token ${id}`);
      return `token ${id} revoked\n`;
  }
};

const main = async () => {
  let args: ReturnType<typeof parse>;
  try {
    args = parse();
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${usage}`);
  }
  const { positionals, values } = args;
  const command = positionals[0] as Command | undefined;
  if (!command || !COMMANDS.includes(command)) throw new UsageError(usage);
  const url = process.env.DATABASE_URL;
  if (!url) throw new UsageError('DATABASE_URL is required');
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    process.stdout.write(await run(pool, command, values, { name: `cli:${loginName()}` }));
  } catch (err) {
    if (err instanceof IdentityError && err.kind === 'not-found')
      throw new UsageError(`${err.message} in tenant ${values.tenant}`);
    throw err;
  } finally {
    await pool.end();
  }
};

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
});
