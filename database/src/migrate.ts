import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';

/** The project's own migrations, shipped beside the compiled code. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));

const FILE_NAME = /^(\d{3,})_([a-z0-9_]+)\.sql$/;
// Any constant works; it only has to be the same for every process that migrates this database.
const LOCK_KEY = 0x0_95c_0001;

export interface Migration {
  /** The file name without `.sql`, e.g. `001_jobs`. */
  file: string;
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export class MigrationError extends Error {}

export const loadMigrations = async (dir: string): Promise<Migration[]> => {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const migrations = await Promise.all(
    files.map(async (file) => {
      const match = FILE_NAME.exec(file);
      if (!match) throw new MigrationError(`${file}: migration files are named NNN_snake_name.sql`);
      const sql = await readFile(path.join(dir, file), 'utf8');
      return {
        file: file.slice(0, -'.sql'.length),
        version: Number(match[1]),
        name: match[2] ?? '',
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    }),
  );
  migrations.forEach((m, i) => {
    if (i > 0 && migrations[i - 1]?.version === m.version)
      throw new MigrationError(`two migrations have version ${m.version}`);
  });
  return migrations;
};

/**
 * Applies pending migrations in order, each in its own transaction: a failing migration leaves the
 * database as it was before it. An advisory lock serialises processes that start at once, and an
 * applied migration whose file has changed stops start-up rather than drifting silently.
 */
export const migrate = async (pool: pg.Pool, dir = MIGRATIONS_DIR): Promise<{ applied: string[] }> => {
  const migrations = await loadMigrations(dir);
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: number; checksum: string }>(
      'SELECT version, checksum FROM schema_migrations',
    );
    const done = new Map(rows.map((r) => [r.version, r.checksum]));
    const applied: string[] = [];
    for (const m of migrations) {
      const checksum = done.get(m.version);
      if (checksum !== undefined) {
        if (checksum !== m.checksum) throw new MigrationError(`migration ${m.file} was changed after it was applied`);
        continue;
      }
      try {
        await client.query('BEGIN');
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
          m.version,
          m.name,
          m.checksum,
        ]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new MigrationError(`migration ${m.file} failed, nothing of it was applied: ${(err as Error).message}`);
      }
      applied.push(m.file);
    }
    return { applied };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => undefined);
    client.release();
  }
};

/**
 * Shipped migrations the database has not applied yet. The services run as roles that cannot
 * change the schema, so they check this at boot and refuse to start on an old schema.
 */
export const pendingMigrations = async (pool: pg.Pool, dir = MIGRATIONS_DIR): Promise<string[]> => {
  const migrations = await loadMigrations(dir);
  const applied = await pool
    .query<{ version: number }>('SELECT version FROM schema_migrations')
    .then((r) => new Set(r.rows.map((row) => row.version)))
    .catch(() => new Set<number>());
  return migrations.filter((m) => !applied.has(m.version)).map((m) => m.file);
};
