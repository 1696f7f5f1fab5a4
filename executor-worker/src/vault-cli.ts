/**
 * Vault administration, run where the executor runs (it alone holds the keys):
 *   vault-cli.js generate-key <file>              writes a new master key, mode 0600
 *   vault-cli.js rotate --new-key-file <file>     with OPSC_VAULT_KEY(_FILE) holding the current keys
 * Roll out executors with both keys (new first) before rotating; drop the old key afterwards.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { generateMasterKey, rotateVaultKey } from '@opsc/activities/vault';
import { ConfigError, parseExecutorEnv } from './env.js';
import { loadKeyring } from './vault-config.js';

const main = async () => {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { 'new-key-file': { type: 'string' } },
  });
  const [command, file] = positionals;
  if (command === 'generate-key' && file) {
    const { pem, key } = generateMasterKey();
    writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
    process.stdout.write(`wrote master key ${key.keyId} to ${file}\n`);
    return;
  }
  if (command !== 'rotate' || !values['new-key-file'])
    throw new ConfigError('usage: vault-cli.js generate-key <file> | rotate --new-key-file <file>');
  const env = parseExecutorEnv();
  const current = loadKeyring(env);
  const next = loadKeyring({ OPSC_VAULT_KEY_FILE: values['new-key-file'] }).current;
  const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 2 });
  try {
    const both = { current: next, byId: new Map([...current.byId, [next.keyId, next]]) };
    // One transaction: every secret re-wrapped and audited, or nothing changed.
    const { rewrapped } = await rotateVaultKey(pool, both, next);
    process.stdout.write(`vault key is now ${next.keyId}; ${rewrapped} secrets re-wrapped\n`);
  } finally {
    await pool.end();
  }
};

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
});
