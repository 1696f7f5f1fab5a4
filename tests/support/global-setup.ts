import { chmod, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type RunningPostgres } from '@opsc/database';
import { REPO_ROOT } from '@opsc/dev';
import { ensureTemporalBinary, startDevServer } from '@opsc/temporal';
import { freePort } from './free-port.js';
import { recordHistories } from './record-histories.js';
import { provideRunContext } from './run-context.js';

/** One Temporal dev server and one PostgreSQL for the whole integration run. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = new Date();
  const runDir = await mkdtemp(path.join(os.tmpdir(), 'opsc-it-'));
  // PostgreSQL runs as an unprivileged user when we are root; it must be able to enter this folder.
  await chmod(runDir, 0o755);
  const logDir = path.join(REPO_ROOT, 'test-results', 'logs');
  const temporal = await startDevServer({
    binary: ensureTemporalBinary(),
    dbFile: path.join(runDir, 'temporal.db'),
    port: await freePort(),
    uiPort: null,
    namespace: 'default',
    logFile: path.join(logDir, 'temporal.log'),
  });
  let postgres: RunningPostgres | undefined;
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    try {
      postgres = await startEmbeddedPostgres({
        dataDir: path.join(runDir, 'pg'),
        port: await freePort(),
        database: 'postgres',
      });
    } catch (err) {
      await temporal.stop();
      throw err;
    }
    adminUrl = postgres.url;
  }
  const run = await provideRunContext(project, {
    temporalAddress: temporal.address,
    postgresAdminUrl: adminUrl,
    runDir,
    started,
  });
  return async () => {
    try {
      await run.scan();
      // scripts/record-histories.sh: the replay test's histories, taken once the scan found them clean.
      if (process.env.OPSC_RECORD_HISTORIES === '1') await recordHistories(temporal.address);
    } finally {
      await temporal.stop();
      await postgres?.stop();
      await run.cleanup();
    }
  };
}
