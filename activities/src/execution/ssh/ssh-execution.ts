import type pg from 'pg';
import { ErrorType, type HostKeyPolicy } from '@opsc/contracts';
import type { SshExecution } from '../deps.js';
import { openCredential } from '../vault/store.js';
import { VaultError, type Keyring } from '../vault/keyring.js';
import { findSshEndpoint } from './endpoints.js';
import { SshFailure } from './failure.js';
import { createPgHostKeyStore } from './host-keys.js';
import { SshPool } from './pool.js';

export interface SshSettings {
  artifactDir: string;
  defaultHostKeyPolicy: HostKeyPolicy;
  maxHandshakes: number;
  maxChannelsPerConnection: number;
  idleMs: number;
  readyTimeoutMs: number;
  keepaliveIntervalMs: number;
}

/** SSH execution over the executor's database pool and vault keyring. */
export const createSshExecution = (db: pg.Pool, keyring: Keyring, settings: SshSettings): SshExecution => ({
  pool: new SshPool({ maxChannelsPerConnection: settings.maxChannelsPerConnection, maxHandshakes: settings.maxHandshakes, idleMs: settings.idleMs }),
  hostKeys: createPgHostKeyStore(db),
  openSecret: async (credentialId) => {
    try {
      return (await openCredential(db, keyring, credentialId)).secret;
    } catch (err) {
      // A secret this executor cannot open will not open on a retry either.
      if (err instanceof VaultError) throw new SshFailure(ErrorType.AuthFailed, `credential ${credentialId} cannot be opened: ${err.message}`);
      throw err;
    }
  },
  findEndpoint: (jobId, targetId) => findSshEndpoint(db, jobId, targetId, settings.defaultHostKeyPolicy),
  artifactDir: settings.artifactDir,
  readyTimeoutMs: settings.readyTimeoutMs,
  keepaliveIntervalMs: settings.keepaliveIntervalMs,
});
