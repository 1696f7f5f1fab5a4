import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type RunningPostgres } from '@opsc/database';
import { REPO_ROOT } from '@opsc/dev';
import { ensureTemporalBinary, startDevServer } from '@opsc/temporal';
import { freePort } from './free-port.js';
import { recordHistories } from './record-histories.js';
import { readSecrets, scanRunForSecrets } from './secret-scan.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    /** A superuser URL; each test file creates its own database through it. */
    postgresAdminUrl: string;
    logDir: string;
    /** Where harnesses register the secrets nothing the platform writes may hold (see secret-registry.ts). */
    secretsFile: string;
    /** Where the tests' API helpers append every answer they receive, for the run's secret scan. */
    apiAnswersFile: string;
  }
}

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
  project.provide('temporalAddress', temporal.address);
  project.provide('postgresAdminUrl', adminUrl);
  project.provide('logDir', logDir);
  const secretsFile = path.join(runDir, 'secrets.jsonl');
  const runAdminUrl = adminUrl;
  const adminPassword = decodeURIComponent(new URL(runAdminUrl).password);
  await writeFile(
    secretsFile,
    adminPassword.length >= 8
      ? `${JSON.stringify({ label: 'the PostgreSQL superuser', secret: adminPassword })}\n`
      : '',
    { mode: 0o600 },
  );
  project.provide('secretsFile', secretsFile);
  const apiAnswersFile = path.join(runDir, 'api-answers.jsonl');
  await writeFile(apiAnswersFile, '', { mode: 0o600 });
  project.provide('apiAnswersFile', apiAnswersFile);
  return async () => {
    try {
      await scanRunForSecrets(await readSecrets(secretsFile), {
        temporalAddress: temporal.address,
        postgresAdminUrl: runAdminUrl,
        logDir,
        since: started,
        apiAnswersFile,
      });
      // scripts/record-histories.sh: the replay test's histories, taken once the scan found them clean.
      if (process.env.OPSC_RECORD_HISTORIES === '1') await recordHistories(temporal.address);
    } finally {
      await temporal.stop();
      await postgres?.stop();
      await rm(secretsFile, { force: true });
      await rm(apiAnswersFile, { force: true });
    }
  };
}
