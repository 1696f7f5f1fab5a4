import { randomBytes } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { CommandOutput } from '@opsc/contracts';
import { startHarnessBase, type HarnessBase } from '../support/harness.js';
import { failureOf } from '../support/failures.js';

// The database-query method: the executor's activity against a real PostgreSQL (the run's
// embedded server, in a database of this test's own), read-only by default.
const PASSWORD = `Reader-${randomBytes(6).toString('hex')}`;
let h: HarnessBase;
let admin: pg.Client;
let database: string;
let role: string;
const targets: Record<string, string> = {};

beforeAll(async () => {
  h = await startHarnessBase('database-query');
  const url = new URL(inject('postgresAdminUrl'));
  database = `opsc_app_${randomBytes(3).toString('hex')}`;
  role = `app_${randomBytes(3).toString('hex')}`;
  const server = new pg.Client({ connectionString: url.toString() });
  await server.connect();
  await server.query(`CREATE DATABASE ${database}`);
  await server.query(`CREATE ROLE ${role} LOGIN PASSWORD '${PASSWORD}'`);
  await server.end();
  url.pathname = `/${database}`;
  admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  await admin.query('CREATE TABLE orders (id serial PRIMARY KEY, customer text NOT NULL, total numeric NOT NULL)');
  await admin.query("INSERT INTO orders (customer, total) VALUES ('acme', 10.5), ('globex', 99), ('initech', 0.25)");
  await admin.query(`GRANT SELECT, INSERT ON orders TO ${role}; GRANT USAGE ON SEQUENCE orders_id_seq TO ${role}`);
  // A table the role owns, so a DROP by it would succeed if it ever ran outside a read-only transaction.
  await admin.query(`CREATE TABLE scratch (x int); ALTER TABLE scratch OWNER TO ${role}`);
  const port = Number(url.port);
  const add = async (name: string, password: string, targetPort = port) => {
    targets[name] = await h.addTarget(
      { name: `${name}-cred`, username: role, secret: { kind: 'password', password } },
      {
        name,
        address: '127.0.0.1',
        os: 'linux',
        services: [{ protocol: 'postgresql', port: targetPort, database, tls: 'disable', credential: `${name}-cred` }],
      },
    );
  };
  await add('pg-app', PASSWORD);
  await add('pg-wrong-password', `${PASSWORD}-not`);
  await add('pg-down', PASSWORD, 1);
}, 240_000);

afterAll(async () => {
  await admin?.end();
  await h?.close();
});

const query = (
  target: string,
  q: string,
  options: { allowWrites?: boolean; maxRows?: number; timeoutSeconds?: number; stepId?: string } = {},
): Promise<CommandOutput> =>
  new MockActivityEnvironment().run(h.executor.activities.runDatabaseQuery, {
    jobId: h.jobId,
    stepId: options.stepId ?? `q-${randomBytes(3).toString('hex')}`,
    target: { id: targets[target] ?? '', name: target },
    timeoutSeconds: options.timeoutSeconds ?? 30,
    query: q,
    allowWrites: options.allowWrites ?? false,
    maxRows: options.maxRows ?? 200,
  });

describe('database queries', () => {
  it('returns rows as tab-separated text with a header, and facts', async () => {
    const out = await query('pg-app', 'SELECT customer, total FROM orders ORDER BY id', { stepId: 'read' });
    expect(out).toMatchObject({
      exitCode: 0,
      facts: { command: 'SELECT', rows: '3', truncated: 'false', columns: 'customer,total' },
    });
    expect(out.stdout).toBe('customer\ttotal\nacme\t10.5\nglobex\t99\ninitech\t0.25\n');
    const record = await h.stored(targets['pg-app'], 'read');
    expect(record).toMatchObject({ method: 'database', exit_code: 0 });
    expect(JSON.stringify(record)).not.toContain(PASSWORD);
  });

  it('fetches no more than maxRows through a cursor, and says so', async () => {
    const out = await query('pg-app', 'SELECT g FROM generate_series(1, 100000) g', { maxRows: 50 });
    expect(out.facts).toMatchObject({ rows: '50', truncated: 'true' });
    expect(out.stdout.trim().split('\n')).toHaveLength(52);
    expect(out.stdout).toContain('(more rows than 50; the rest were not fetched)');
  });

  it('refuses a write by default (read-only transaction), and runs it when writes are allowed', async () => {
    const refused = await query('pg-app', "INSERT INTO orders (customer, total) VALUES ('mallory', 1)");
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('ERROR 25006: cannot execute INSERT in a read-only transaction');
    expect((await admin.query('SELECT count(*)::int AS n FROM orders')).rows[0]).toEqual({ n: 3 });
    const written = await query('pg-app', "INSERT INTO orders (customer, total) VALUES ('umbrella', 7)", {
      allowWrites: true,
    });
    expect(written).toMatchObject({ exitCode: 0, facts: { command: 'INSERT', affected: '1' } });
    expect((await admin.query('SELECT count(*)::int AS n FROM orders')).rows[0]).toEqual({ n: 4 });
  });

  it('reports a SQL error as a failed result with its SQLSTATE', async () => {
    const out = await query('pg-app', 'SELECT * FROM no_such_table');
    expect(out).toMatchObject({ exitCode: 1, facts: { sqlstate: '42P01' } });
    expect(out.stderr).toContain('relation "no_such_table" does not exist');
  });

  it('cancels a statement that outlives the step timeout (Timeout, retryable)', async () => {
    const failure = await failureOf(query('pg-app', 'SELECT pg_sleep(10)', { timeoutSeconds: 1 }));
    expect(failure.type).toBe('Timeout');
    expect(failure.nonRetryable).toBe(false);
  });

  it('reports a refused login as AuthFailed (not retried) and a server that is down as HostUnreachable', async () => {
    const auth = await failureOf(query('pg-wrong-password', 'SELECT 1'));
    expect(auth).toMatchObject({ type: 'AuthFailed', nonRetryable: true });
    expect(auth.message).toContain(`refused the login of ${role}`);
    expect(auth.message).not.toContain(PASSWORD);
    const down = await failureOf(query('pg-down', 'SELECT 1'));
    expect(down).toMatchObject({ type: 'HostUnreachable', nonRetryable: false });
  });
});

describe('one statement per step, read-only whatever the SQL says', () => {
  const orders = async () => (await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM orders')).rows[0]!.n;
  const scratch = async () =>
    (await admin.query<{ t: string | null }>("SELECT to_regclass('public.scratch')::text AS t")).rows[0]!.t;

  it('refuses several statements in one step: a COMMIT or SET TRANSACTION READ WRITE cannot lift read-only', async () => {
    const before = await orders();
    for (const q of [
      'select 1; commit; drop table scratch',
      "select 1; commit; insert into orders (customer, total) values ('mallory', 2)",
      "show server_version; set transaction read write; insert into orders (customer, total) values ('mallory', 3)",
      'show server_version; set transaction read write; drop table scratch',
    ]) {
      const failure = await failureOf(query('pg-app', q));
      expect(failure, q).toMatchObject({ type: 'ValidationFailed', nonRetryable: true });
      expect(failure.message, q).toContain('one SQL statement per step');
    }
    expect(await orders()).toBe(before);
    expect(await scratch()).toBe('scratch');
  });

  it('refuses several statements with writes allowed too, and runs none of them', async () => {
    const before = await orders();
    const failure = await failureOf(
      query(
        'pg-app',
        "insert into orders (customer, total) values ('a', 1); insert into orders (customer, total) values ('b', 2)",
        {
          allowWrites: true,
        },
      ),
    );
    expect(failure.message).toContain('one SQL statement per step');
    expect(await orders()).toBe(before);
  });

  it('runs one statement with a trailing semicolon, or a semicolon inside a string or comment', async () => {
    expect(await query('pg-app', 'SELECT count(*) AS n FROM scratch;')).toMatchObject({
      exitCode: 0,
      stdout: 'n\n0\n',
    });
    expect(await query('pg-app', "SELECT 'a;b' AS s -- c;d\n")).toMatchObject({ exitCode: 0, stdout: 's\na;b\n' });
    expect(await query('pg-app', 'SHOW transaction_read_only')).toMatchObject({
      exitCode: 0,
      stdout: 'transaction_read_only\non\n',
    });
  });

  it('makes the session read-only too for a read, and not for a write', async () => {
    const read = await query('pg-app', 'SHOW default_transaction_read_only');
    expect(read).toMatchObject({ exitCode: 0, stdout: 'default_transaction_read_only\non\n' });
    const write = await query('pg-app', 'SHOW default_transaction_read_only', { allowWrites: true });
    expect(write).toMatchObject({ exitCode: 0, stdout: 'default_transaction_read_only\noff\n' });
  });
});
