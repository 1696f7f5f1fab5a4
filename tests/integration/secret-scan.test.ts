import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, writeFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ensureNamespace } from '@opsc/temporal';
import { scanRunForSecrets } from '../support/secret-scan.js';

/**
 * The run's closing secret scan is only worth something if it finds what it looks for: plant a
 * marker in each place it reads (a workflow history, a database row, a service log, an API answer)
 * under prefixes the real scan does not read, and check it names each place.
 */
describe('the run-wide secret scan', () => {
  const suffix = randomBytes(3).toString('hex');
  const namespace = `scanprobe-${suffix}`;
  const database = `scanprobe_${suffix}`;
  const marker = `planted-${randomBytes(12).toString('hex')}`;
  let dir: string;
  let adminUrl: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'opsc-scanprobe-'));
    adminUrl = inject('postgresAdminUrl');
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.end();
  });

  afterAll(async () => {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${database}`);
    await admin.end();
    await rm(dir, { recursive: true, force: true });
  });

  it('names every place a planted secret turned up, and passes a clean run', async () => {
    const connection = await Connection.connect({ address: inject('temporalAddress') });
    await ensureNamespace(connection, namespace);
    // A workflow nobody runs: its start event (input, memo) is in its history all the same.
    const client = new Client({ connection, namespace });
    await client.workflow.start('noSuchWorkflow', {
      taskQueue: `scanprobe-${suffix}`,
      workflowId: 'probe',
      args: [{ note: 'clean' }],
      memo: { leaked: marker },
    });
    await connection.close();
    const url = new URL(adminUrl);
    url.pathname = `/${database}`;
    const db = new pg.Client({ connectionString: url.toString() });
    await db.connect();
    await db.query('CREATE TABLE step_output (line text)');
    await db.query('INSERT INTO step_output VALUES ($1), ($2)', ['nothing here', `the key is ${marker}`]);
    await db.end();
    const logDir = path.join(dir, 'logs');
    await mkdir(logDir);
    await writeFile(path.join(logDir, 'executor.log'), `started\nconnecting with ${marker}\n`);
    const apiAnswersFile = path.join(dir, 'answers');
    await writeFile(apiAnswersFile, `--- /api/jobs/x\n{"stdout":"${marker}"}\n`);

    const sources = {
      temporalAddress: inject('temporalAddress'),
      postgresAdminUrl: adminUrl,
      namespacePrefix: 'scanprobe-',
      databasePrefix: 'scanprobe_',
      logDir,
      since: new Date(0),
      apiAnswersFile,
    };
    const error = await scanRunForSecrets([{ label: 'the probe', secret: marker }], sources).then(
      () => null,
      (err: unknown) => err as Error,
    );
    expect(error?.message).toContain(`history ${namespace}/probe: a secret of the probe`);
    expect(error?.message).toContain(`database ${database}, table step_output: a secret of the probe`);
    expect(error?.message).toContain('log executor.log: a secret of the probe');
    expect(error?.message).toContain('API answers: a secret of the probe');
    // The same places without the marker pass.
    await expect(
      scanRunForSecrets([{ label: 'another', secret: `absent-${randomBytes(12).toString('hex')}` }], sources),
    ).resolves.toBeUndefined();
  });
});
