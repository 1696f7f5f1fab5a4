import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { inject } from 'vitest';
import {
  EXECUTOR_MAIN,
  ORCHESTRATOR_MAIN,
  ensureTriggerKeyFile,
  ensureVaultKeyFile,
  prepareDatabase,
  startService,
  waitForHttpOk,
  type ServiceProcess,
} from '@opsc/dev';
import { ensureNamespace } from '@opsc/temporal';
import { createUser, ensureTenant, issueApiToken, type Role } from '@opsc/orchestrator/identity';
import { freePort } from './free-port.js';
import { registerTestSecrets } from './secret-registry.js';

export interface RunningOrchestrator {
  service: ServiceProcess;
  apiUrl: string;
  /** Its own `/metrics` listener (product and Temporal SDK metrics). */
  metricsUrl: string;
}

export interface RunningExecutor {
  service: ServiceProcess;
  healthUrl: string;
}

/**
 * A test file's own slice of the shared Temporal server and PostgreSQL: a fresh namespace and a
 * fresh database, and real orchestrator / executor processes started on demand.
 */
export interface TestStack {
  namespace: string;
  /** Administrative URL of the test's database. */
  databaseUrl: string;
  /** URLs of the services' own roles. */
  roleUrls: { orchestrator: string; executor: string };
  /** The executor's vault master key (PEM file). */
  vaultKeyFile: string;
  /** The executor's artifact folder (file-fetch results, and its cache of uploaded artifacts). */
  artifactDir: string;
  pool: pg.Pool;
  client: Client;
  /** A user of the given role in a tenant (created on first use), and an API token for them. */
  createUser(
    role: Role,
    options?: { tenant?: string; username?: string; password?: string },
  ): Promise<{ username: string; token: string; tenantId: string; tenant: string }>;
  startOrchestrator(env?: Record<string, string>): Promise<RunningOrchestrator>;
  /** An orchestrator process, not waited for: its API answers 503 "starting" until its worker runs. */
  spawnOrchestrator(env?: Record<string, string>): Promise<RunningOrchestrator>;
  startExecutor(env?: Record<string, string>): Promise<RunningExecutor>;
  close(): Promise<void>;
}

export interface TestStackOptions {
  /** A Temporal server of the test's own instead of the run's shared one. */
  temporalAddress?: string;
}

export const createTestStack = async (label: string, options: TestStackOptions = {}): Promise<TestStack> => {
  const temporalAddress = options.temporalAddress ?? inject('temporalAddress');
  const suffix = `${label}-${randomBytes(3).toString('hex')}`.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  const namespace = `t-${suffix}`;
  const connection = await Connection.connect({ address: temporalAddress });
  await ensureNamespace(connection, namespace);
  const client = new Client({ connection, namespace });

  const adminUrl = new URL(inject('postgresAdminUrl'));
  const database = `t_${suffix.replaceAll('-', '_')}`;
  const admin = new pg.Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
  await admin.end();
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/${database}`;
  const databaseUrl = dbUrl.toString();
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  // Migrated as the administrator; the services get their own least-privilege roles, as in production.
  const roles = await prepareDatabase(databaseUrl, path.join(os.tmpdir(), `opsc-roles-${namespace}.json`));

  // The executor alone gets the vault key; tests may read it to prove what only the executor can do.
  const vaultKeyFile = ensureVaultKeyFile(path.join(os.tmpdir(), `opsc-vault-${namespace}`));
  // The platform's own secrets: nothing the platform writes or answers may ever hold them.
  const pemLines = readFileSync(vaultKeyFile, 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('-----'));
  registerTestSecrets(`the vault key of ${namespace}`, pemLines);
  registerTestSecrets(
    `the service-role passwords of ${namespace}`,
    [roles.orchestrator, roles.executor].map((u) => decodeURIComponent(new URL(u).password)),
  );
  // The orchestrator's trigger key (generic triggers' secrets derive from it): a platform secret too.
  const triggerKeyFile = ensureTriggerKeyFile(path.join(os.tmpdir(), `opsc-trigger-key-${namespace}`));
  registerTestSecrets(`the trigger key of ${namespace}`, [readFileSync(triggerKeyFile, 'utf8').trim()]);
  const artifactDir = path.join(os.tmpdir(), `opsc-artifacts-${namespace}`);
  mkdirSync(artifactDir, { recursive: true });
  const logDir = inject('logDir');
  mkdirSync(logDir, { recursive: true });
  const services: ServiceProcess[] = [];
  const baseEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_NAMESPACE: namespace,
    JOB_HEARTBEAT_TIMEOUT_SECONDS: '3',
  };
  const spawnLogged = (name: string, script: string, env: Record<string, string>) => {
    const file = path.join(logDir, `${namespace}-${name}.log`);
    const service = startService({ name, script, env, onLine: (line) => appendFileSync(file, `${line}\n`) });
    services.push(service);
    return service;
  };
  const spawnOrchestrator = async (env: Record<string, string> = {}): Promise<RunningOrchestrator> => {
    const port = await freePort();
    const metricsPort = await freePort();
    const service = spawnLogged('orchestrator', ORCHESTRATOR_MAIN, {
      ...baseEnv,
      DATABASE_URL: roles.orchestrator,
      API_PORT: String(port),
      ORCHESTRATOR_METRICS_PORT: String(metricsPort),
      OPSC_TRIGGER_KEY_FILE: triggerKeyFile,
      ...env,
    });
    return { service, apiUrl: `http://127.0.0.1:${port}`, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics` };
  };

  return {
    namespace,
    databaseUrl,
    roleUrls: { orchestrator: roles.orchestrator, executor: roles.executor },
    vaultKeyFile,
    artifactDir,
    pool,
    client,
    async createUser(role, options = {}) {
      const tenant = options.tenant ?? 'acme';
      const tenantId = await ensureTenant(pool, tenant);
      const username = options.username ?? `${role}-${randomBytes(3).toString('hex')}`;
      const userId = await createUser(pool, {
        tenantId,
        username,
        role,
        ...(options.password && { password: options.password }),
      });
      return { username, tenantId, tenant, token: await issueApiToken(pool, userId, 'test') };
    },
    spawnOrchestrator,
    async startOrchestrator(env = {}) {
      const running = await spawnOrchestrator(env);
      // Health answers 503 "starting" until the workflow worker runs, then 200.
      await waitForHttpOk(`${running.apiUrl}/api/health`, 90_000, running.service);
      return running;
    },
    async startExecutor(env = {}) {
      const port = await freePort();
      const service = spawnLogged('executor', EXECUTOR_MAIN, {
        ...baseEnv,
        DATABASE_URL: roles.executor,
        OPSC_VAULT_KEY_FILE: vaultKeyFile,
        EXECUTOR_HEALTH_PORT: String(port),
        EXECUTOR_ARTIFACT_DIR: artifactDir,
        ...env,
      });
      const healthUrl = `http://127.0.0.1:${port}`;
      await waitForHttpOk(`${healthUrl}/health`, 90_000, service);
      return { service, healthUrl };
    },
    async close() {
      await Promise.all(services.map((s) => s.stop(5_000)));
      await pool.end();
      await connection.close();
    },
  };
};
