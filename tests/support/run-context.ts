import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { REPO_ROOT } from '@opsc/dev';
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

export interface RunContext {
  logDir: string;
  /** The run's secret scan (histories, databases, logs, API answers); throws on a leak. */
  scan(): Promise<void>;
  /** Removes the run's secrets and answers files. */
  cleanup(): Promise<void>;
}

/**
 * What every project with real services gives its test files: the Temporal address, the PostgreSQL
 * superuser URL, the log folder, and the files the run's secret scan reads (the superuser password
 * is registered as a secret from the start).
 */
export const provideRunContext = async (
  project: TestProject,
  options: { temporalAddress: string; postgresAdminUrl: string; runDir: string; started: Date },
): Promise<RunContext> => {
  const logDir = path.join(REPO_ROOT, 'test-results', 'logs');
  project.provide('temporalAddress', options.temporalAddress);
  project.provide('postgresAdminUrl', options.postgresAdminUrl);
  project.provide('logDir', logDir);
  const secretsFile = path.join(options.runDir, 'secrets.jsonl');
  const adminPassword = decodeURIComponent(new URL(options.postgresAdminUrl).password);
  await writeFile(
    secretsFile,
    adminPassword.length >= 8
      ? `${JSON.stringify({ label: 'the PostgreSQL superuser', secret: adminPassword })}\n`
      : '',
    { mode: 0o600 },
  );
  project.provide('secretsFile', secretsFile);
  const apiAnswersFile = path.join(options.runDir, 'api-answers.jsonl');
  await writeFile(apiAnswersFile, '', { mode: 0o600 });
  project.provide('apiAnswersFile', apiAnswersFile);
  return {
    logDir,
    scan: async () =>
      scanRunForSecrets(await readSecrets(secretsFile), {
        temporalAddress: options.temporalAddress,
        postgresAdminUrl: options.postgresAdminUrl,
        logDir,
        since: options.started,
        apiAnswersFile,
      }),
    cleanup: async () => {
      await rm(secretsFile, { force: true });
      await rm(apiAnswersFile, { force: true });
    },
  };
};
