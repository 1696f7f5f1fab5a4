import type pg from 'pg';
import type { DatabaseExecution } from '../deps.js';
import { createSecretOpener } from '../secrets.js';
import { findTargetService } from '../target-service.js';
import type { Keyring } from '../vault/keyring.js';

/** Database queries over the executor's database pool (the inventory) and vault keyring. */
export const createDatabaseExecution = (db: pg.Pool, keyring: Keyring): DatabaseExecution => ({
  findService: (jobId, targetId) => findTargetService(db, jobId, targetId, 'postgresql'),
  openSecret: createSecretOpener(db, keyring),
});
