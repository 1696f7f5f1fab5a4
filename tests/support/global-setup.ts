import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Client, Connection } from '@temporalio/client';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type RunningPostgres } from '@opsc/database';
import { REPO_ROOT } from '@opsc/dev';
import { ensureTemporalBinary, startDevServer } from '@opsc/temporal';
import { freePort } from './free-port.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    /** A superuser URL; each test file creates its own database through it. */
    postgresAdminUrl: string;
    logDir: string;
    /** Where harnesses register the secrets no workflow history may hold (see secret-registry.ts). */
    secretsFile: string;
  }
}

/** One Temporal dev server and one PostgreSQL for the whole integration run. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
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
      postgres = await startEmbeddedPostgres({ dataDir: path.join(runDir, 'pg'), port: await freePort(), database: 'postgres' });
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
  await writeFile(secretsFile, '', { mode: 0o600 });
  project.provide('secretsFile', secretsFile);
  return async () => {
    try {
      await checkHistoriesForSecrets(temporal.address, secretsFile);
    } finally {
      await temporal.stop();
      await postgres?.stop();
      await rm(secretsFile, { force: true });
    }
  };
}

/** Reads every workflow history of every test namespace and fails the run if one holds a registered secret. */
const checkHistoriesForSecrets = async (address: string, secretsFile: string): Promise<void> => {
  const secrets = (await readFile(secretsFile, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { label: string; secret: string });
  if (secrets.length === 0) return;
  const connection = await Connection.connect({ address });
  const leaks: string[] = [];
  let histories = 0;
  try {
    const { namespaces } = await connection.workflowService.listNamespaces({ pageSize: 1000 });
    for (const ns of namespaces ?? []) {
      const name = ns.namespaceInfo?.name ?? '';
      if (!name.startsWith('t-')) continue;
      const client = new Client({ connection, namespace: name });
      for await (const wf of client.workflow.list()) {
        const text = JSON.stringify(await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory());
        histories += 1;
        for (const { label, secret } of secrets) if (text.includes(secret)) leaks.push(`${name}/${wf.workflowId}: a secret of ${label}`);
      }
    }
  } finally {
    await connection.close();
  }
  process.stdout.write(`secret scan: ${histories} workflow histories, ${secrets.length} registered secrets, ${leaks.length} found\n`);
  if (leaks.length > 0) throw new Error(`workflow histories hold test secrets:\n${leaks.join('\n')}`);
};
