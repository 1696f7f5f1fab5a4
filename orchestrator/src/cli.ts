/**
 * Administration from a shell with the orchestrator's DATABASE_URL:
 *   node orchestrator/dist/cli.js create-admin --tenant <name> --username <name> [--password-stdin]
 * Creates the tenant if needed and an admin in it, and prints an API token for that admin, once.
 * There is no default account and no default password.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { recordAudit } from './audit.js';
import { inTransaction } from './db.js';
import { createUser, ensureTenant, issueApiToken } from './identity/users.js';

const usage = 'usage: cli.js create-admin --tenant <name> --username <name> [--password-stdin]';

const main = async () => {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { tenant: { type: 'string' }, username: { type: 'string' }, 'password-stdin': { type: 'boolean', default: false } },
  });
  const { tenant, username } = values;
  if (positionals[0] !== 'create-admin' || !tenant || !username) throw new Error(usage);
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is required');
  const password = values['password-stdin'] ? readFileSync(0, 'utf8').replace(/\r?\n$/, '') : undefined;
  if (password !== undefined && password.length < 12) throw new Error('the password must be at least 12 characters');
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    const token = await inTransaction(pool, async (client) => {
      const tenantId = await ensureTenant(client, tenant);
      const userId = await createUser(client, { tenantId, username: username, role: 'admin', ...(password && { password }) });
      await recordAudit(client, { tenantId, actor: 'cli', action: 'user.create', objectType: 'user', objectId: username, details: { role: 'admin' } });
      return issueApiToken(client, userId, 'created by create-admin');
    });
    process.stdout.write(`admin ${username} created in tenant ${tenant}\nAPI token (shown once): ${token}\n`);
  } catch (err) {
    if ((err as { code?: string }).code === '23505') throw new Error(`username ${username} is taken; nothing was created`);
    throw err;
  } finally {
    await pool.end();
  }
};

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
});
