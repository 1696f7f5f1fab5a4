import { readFileSync } from 'node:fs';
import { createKeyring, type Keyring } from '@opsc/activities/vault';
import { ConfigError, type ExecutorEnv } from './env.js';

const PEM_BLOCK = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/g;

/** The executor's keyring from OPSC_VAULT_KEY or OPSC_VAULT_KEY_FILE (one or more PEM keys, newest first). */
export const loadKeyring = (env: Pick<ExecutorEnv, 'OPSC_VAULT_KEY' | 'OPSC_VAULT_KEY_FILE'>): Keyring => {
  let text: string;
  if (env.OPSC_VAULT_KEY) text = env.OPSC_VAULT_KEY;
  else if (env.OPSC_VAULT_KEY_FILE) {
    try {
      text = readFileSync(env.OPSC_VAULT_KEY_FILE, 'utf8');
    } catch (err) {
      throw new ConfigError(`OPSC_VAULT_KEY_FILE: cannot read ${env.OPSC_VAULT_KEY_FILE} (${(err as NodeJS.ErrnoException).code})`);
    }
  } else throw new ConfigError('OPSC_VAULT_KEY or OPSC_VAULT_KEY_FILE must be set: the executor alone holds the vault key');
  try {
    return createKeyring(text.match(PEM_BLOCK) ?? []);
  } catch (err) {
    // The message names the problem, never the key material.
    throw new ConfigError(`${env.OPSC_VAULT_KEY ? 'OPSC_VAULT_KEY' : 'OPSC_VAULT_KEY_FILE'}: ${(err as Error).message}`);
  }
};
