import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';

/** A secret the run planted or made (a fleet password, the vault key, a role password), and whose it is. */
export interface PlantedSecret {
  label: string;
  secret: string;
}

export interface ScanSources {
  temporalAddress: string;
  /** Namespaces and databases of the run's tests: `t-…` and `t_…`. */
  namespacePrefix?: string;
  databasePrefix?: string;
  /** Superuser URL of the run's PostgreSQL: every test database on it is read. */
  postgresAdminUrl: string;
  /** Service logs written since `since`. */
  logDir: string;
  since: Date;
  /** Every API answer the tests received (one JSON line each). */
  apiAnswersFile: string;
}

export const readSecrets = async (file: string): Promise<PlantedSecret[]> =>
  (await readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as PlantedSecret);

/** Where each secret turned up; fed one text at a time. */
class Findings {
  readonly leaks: string[] = [];
  texts = 0;
  constructor(private readonly secrets: PlantedSecret[]) {}
  check(where: string, text: string): void {
    this.texts += 1;
    for (const { label, secret } of this.secrets)
      if (text.includes(secret)) this.leaks.push(`${where}: a secret of ${label}`);
  }
}

/**
 * A history as text a secret can be found in: payloads (inputs, results, memos, search attributes,
 * heartbeat details) are bytes in the protobuf object, so they are decoded, not JSON-stringified.
 */
const historyText = (value: unknown, out: string[] = []): string[] => {
  if (typeof value === 'string') out.push(value);
  else if (value instanceof Uint8Array) out.push(Buffer.from(value).toString('utf8'));
  else if (Array.isArray(value)) for (const v of value) historyText(v, out);
  else if (value !== null && typeof value === 'object') for (const v of Object.values(value)) historyText(v, out);
  return out;
};

const scanHistories = async (address: string, prefix: string, findings: Findings): Promise<void> => {
  const connection = await Connection.connect({ address });
  try {
    const { namespaces } = await connection.workflowService.listNamespaces({ pageSize: 1000 });
    for (const ns of namespaces ?? []) {
      const name = ns.namespaceInfo?.name ?? '';
      if (!name.startsWith(prefix)) continue;
      const client = new Client({ connection, namespace: name });
      for await (const wf of client.workflow.list()) {
        const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
        // Search attributes and memos are in the history's start event too.
        findings.check(`history ${name}/${wf.workflowId}`, historyText(history).join('\n'));
      }
    }
  } finally {
    await connection.close();
  }
};

/** Every row of every table of every test database, as text: results, output lines, jobs, audit, events. */
const scanDatabases = async (adminUrl: string, prefix: string, findings: Findings): Promise<void> => {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  let databases: string[];
  try {
    databases = (
      await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [prefix])
    ).rows.map((r) => r.datname);
  } finally {
    await admin.end();
  }
  for (const database of databases) {
    const url = new URL(adminUrl);
    url.pathname = `/${database}`;
    const db = new pg.Client({ connectionString: url.toString() });
    await db.connect();
    try {
      const tables = (
        await db.query<{ name: string }>(
          `SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = 'public'`,
        )
      ).rows.map((r) => r.name);
      for (const table of tables) {
        // A page at a time: output_lines of a big test can be large.
        for (let offset = 0; ; offset += 5_000) {
          const { rows } = await db.query<{ row: string }>(
            `SELECT t::text AS row FROM ${table} t ORDER BY ctid LIMIT 5000 OFFSET ${offset}`,
          );
          if (rows.length === 0) break;
          findings.check(`database ${database}, table ${table}`, rows.map((r) => r.row).join('\n'));
          if (rows.length < 5_000) break;
        }
      }
    } finally {
      await db.end();
    }
  }
};

const scanLogs = async (logDir: string, since: Date, findings: Findings): Promise<void> => {
  const files = await readdir(logDir).catch(() => [] as string[]);
  for (const file of files) {
    const full = path.join(logDir, file);
    if ((await stat(full)).mtime < since) continue;
    findings.check(`log ${file}`, await readFile(full, 'utf8'));
  }
};

/**
 * The run's last word on secrets: no planted or platform secret in any workflow history, search
 * attribute or memo, any row the services wrote (results, output, jobs, audit), any service log, or
 * any API answer a test received. A hit fails the run, naming where.
 */
export const scanRunForSecrets = async (secrets: PlantedSecret[], sources: ScanSources): Promise<void> => {
  if (secrets.length === 0) return;
  const findings = new Findings(secrets);
  await scanHistories(sources.temporalAddress, sources.namespacePrefix ?? 't-', findings);
  await scanDatabases(sources.postgresAdminUrl, sources.databasePrefix ?? 't_', findings);
  await scanLogs(sources.logDir, sources.since, findings);
  const answers = await readFile(sources.apiAnswersFile, 'utf8').catch(() => '');
  findings.check('API answers', answers);
  process.stdout.write(
    `secret scan: ${findings.texts} texts (histories, database tables, logs, API answers), ${secrets.length} planted secrets, ${findings.leaks.length} found\n`,
  );
  if (findings.leaks.length > 0) throw new Error(`secrets leaked:\n${[...new Set(findings.leaks)].join('\n')}`);
};
