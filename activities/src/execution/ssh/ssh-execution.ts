import type pg from 'pg';
import type { HostKeyPolicy } from '@opsc/contracts';
import type { SshExecution } from '../deps.js';
import type { Keyring } from '../vault/keyring.js';
import { createSecretOpener } from '../secrets.js';
import type { ArtifactSource } from '../artifact-source.js';
import { findSshEndpoint } from './endpoints.js';
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

/** SSH execution over the executor's database pool and vault keyring; copies read `artifacts`. */
export const createSshExecution = (
  db: pg.Pool,
  keyring: Keyring,
  settings: SshSettings,
  artifacts: ArtifactSource,
): SshExecution => ({
  pool: new SshPool({
    maxChannelsPerConnection: settings.maxChannelsPerConnection,
    maxHandshakes: settings.maxHandshakes,
    idleMs: settings.idleMs,
  }),
  hostKeys: createPgHostKeyStore(db),
  openSecret: createSecretOpener(db, keyring),
  findEndpoint: (jobId, targetId) => findSshEndpoint(db, jobId, targetId, settings.defaultHostKeyPolicy),
  artifactDir: settings.artifactDir,
  artifacts,
  readyTimeoutMs: settings.readyTimeoutMs,
  keepaliveIntervalMs: settings.keepaliveIntervalMs,
});
