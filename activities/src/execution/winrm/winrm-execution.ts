import type pg from 'pg';
import type { WinrmExecution } from '../deps.js';
import { createSecretOpener } from '../secrets.js';
import type { ArtifactSource } from '../artifact-source.js';
import type { Keyring } from '../vault/keyring.js';
import { findWinrmEndpoint } from './endpoints.js';
import { WinrmPool } from './pool.js';

export interface WinrmSettings {
  maxConcurrentPerHost: number;
  idleMs: number;
  connectTimeoutMs: number;
  /** WS-Management MaxEnvelopeSize in bytes; Windows' default is 153600 (150 KB). */
  maxEnvelopeSize: number;
  operationTimeoutSeconds: number;
}

/** WinRM execution over the executor's database pool and vault keyring; copies read `artifacts`. */
export const createWinrmExecution = (
  db: pg.Pool,
  keyring: Keyring,
  settings: WinrmSettings,
  artifacts: ArtifactSource,
): WinrmExecution => ({
  pool: new WinrmPool({ maxConcurrentPerHost: settings.maxConcurrentPerHost, idleMs: settings.idleMs }),
  openSecret: createSecretOpener(db, keyring),
  findEndpoint: (jobId, targetId) => findWinrmEndpoint(db, jobId, targetId),
  artifacts,
  connectTimeoutMs: settings.connectTimeoutMs,
  shell: { maxEnvelopeSize: settings.maxEnvelopeSize, operationTimeoutSeconds: settings.operationTimeoutSeconds },
});
