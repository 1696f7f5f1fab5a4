import { readFileSync, statSync } from 'node:fs';
import { createKeyring, type Keyring } from '@opsc/activities/vault';
import { ConfigError, type ExecutorEnv } from './env.js';

const PEM_BLOCK = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/g;

type VaultEnv = Pick<ExecutorEnv, 'OPSC_VAULT_KEY' | 'OPSC_VAULT_KEY_FILE'>;

/** The key file's text, refused unless only its owner may read it: another user of the host must not. */
const readKeyFile = (file: string): string => {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (err) {
    throw new ConfigError(`OPSC_VAULT_KEY_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code})`);
  }
  if ((mode & 0o077) !== 0) {
    throw new ConfigError(
      `OPSC_VAULT_KEY_FILE: ${file} is open to group or others (mode ${(mode & 0o777).toString(8).padStart(4, '0')}): chmod 600 it`,
    );
  }
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`OPSC_VAULT_KEY_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code})`);
  }
};

/** The executor's keyring and its PEM blocks (for redaction), from OPSC_VAULT_KEY or OPSC_VAULT_KEY_FILE, newest first. */
export const loadVaultKeys = (env: VaultEnv): { keyring: Keyring; pems: string[] } => {
  let text: string;
  if (env.OPSC_VAULT_KEY) text = env.OPSC_VAULT_KEY;
  else if (env.OPSC_VAULT_KEY_FILE) text = readKeyFile(env.OPSC_VAULT_KEY_FILE);
  else
    throw new ConfigError('OPSC_VAULT_KEY or OPSC_VAULT_KEY_FILE must be set: the executor alone holds the vault key');
  const pems = text.match(PEM_BLOCK) ?? [];
  try {
    return { keyring: createKeyring(pems), pems };
  } catch (err) {
    // The message names the problem, never the key material.
    throw new ConfigError(
      `${env.OPSC_VAULT_KEY ? 'OPSC_VAULT_KEY' : 'OPSC_VAULT_KEY_FILE'}: ${(err as Error).message}`,
    );
  }
};

/** The executor's keyring from OPSC_VAULT_KEY or OPSC_VAULT_KEY_FILE (one or more PEM keys, newest first). */
export const loadKeyring = (env: VaultEnv): Keyring => loadVaultKeys(env).keyring;
