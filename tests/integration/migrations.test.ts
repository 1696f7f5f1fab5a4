import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, MigrationError } from '@opsc/database';
import { createTestStack, type TestStack } from '../support/stack.js';

const tables = async (pool: pg.Pool) =>
  (
    await pool.query<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)
  ).rows.map((r) => r.tablename);

describe('versioned migrations on a real PostgreSQL', () => {
  let stack: TestStack;
  let pool: pg.Pool;

  beforeAll(async () => {
    stack = await createTestStack('migrations');
    // A second, empty schema in the same database keeps this test's migrations apart from the app's.
    pool = new pg.Pool({ connectionString: stack.databaseUrl, max: 2, options: '-c search_path=scratch' });
    await pool.query('CREATE SCHEMA scratch');
  });

  afterAll(async () => {
    await pool?.end();
    await stack?.close();
  });

  it('has applied the project migrations once, and a second run applies nothing', async () => {
    expect(await tables(stack.pool)).toEqual(
      expect.arrayContaining(['jobs', 'output_lines', 'schema_migrations', 'step_results']),
    );
    expect(await migrate(stack.pool)).toEqual({ applied: [] });
  });

  it('rolls a failing migration back whole and refuses an edited one', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'opsc-migrations-'));
    await writeFile(path.join(dir, '001_first.sql'), 'CREATE TABLE scratch.first (id int);');
    await writeFile(
      path.join(dir, '002_broken.sql'),
      'CREATE TABLE scratch.second (id int);\nSELECT no_such_function();',
    );
    await expect(migrate(pool, dir)).rejects.toThrow(/002_broken failed, nothing of it was applied/);
    const scratch = (
      await pool.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'scratch' ORDER BY 1`)
    ).rows.map((r) => r.tablename);
    expect(scratch).toEqual(['first', 'schema_migrations']);
    expect((await pool.query('SELECT version FROM scratch.schema_migrations')).rows).toEqual([{ version: 1 }]);

    await writeFile(path.join(dir, '002_broken.sql'), 'CREATE TABLE scratch.second (id int);');
    expect(await migrate(pool, dir)).toEqual({ applied: ['002_broken'] });
    await writeFile(path.join(dir, '001_first.sql'), 'CREATE TABLE scratch.first (id bigint);');
    await expect(migrate(pool, dir)).rejects.toBeInstanceOf(MigrationError);
  });
});
