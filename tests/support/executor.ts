import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { egressRules } from '@opsc/contracts';
import {
  createDatabaseExecution,
  createEgressGuard,
  createExecutionActivities,
  createNotificationExecution,
  createRedactor,
  createSandbox,
  executorSecrets,
  findProgram,
  findSandboxUser,
  platformServices,
  serviceRuleText,
  tenantEgressRules,
  createPgOutputLineSink,
  createPgOutputStore,
  artifactCacheDir,
  createArtifactSource,
  createSshExecution,
  createWinrmExecution,
  createLookupCache,
  createOutageWait,
  createResultOutbox,
  withLookupCache,
  type PgOutputLineOptions,
  type PgOutputLineSink,
  type SshExecution,
  type SshSettings,
  type WinrmExecution,
  type WinrmSettings,
} from '@opsc/activities/execution';
import { createKeyring, publishVaultKey } from '@opsc/activities/vault';
import type { TestStack } from './stack.js';

export interface TestExecutor {
  activities: ReturnType<typeof createExecutionActivities>;
  ssh: SshExecution;
  winrm: WinrmExecution;
  /** The output line stream the activities write, as the executor's role. */
  lines: PgOutputLineSink;
  close(): Promise<void>;
}

/**
 * The executor's activities built in this process over the stack's database (as the executor
 * role) and vault key, exactly as executor-worker builds them, for tests that drive them directly.
 */
export const createTestExecutor = async (
  stack: TestStack,
  options: {
    ssh?: Partial<SshSettings>;
    winrm?: Partial<WinrmSettings>;
    lines?: PgOutputLineOptions;
    localCommands?: string[];
  } = {},
): Promise<TestExecutor> => {
  const pool = new pg.Pool({ connectionString: stack.roleUrls.executor, max: 20 });
  const pem = readFileSync(stack.vaultKeyFile, 'utf8');
  const keyring = createKeyring([pem]);
  await publishVaultKey(pool, keyring);
  const artifacts = createArtifactSource(pool, artifactCacheDir(stack.artifactDir));
  const ssh = createSshExecution(
    pool,
    keyring,
    {
      artifactDir: stack.artifactDir,
      defaultHostKeyPolicy: 'accept-new',
      maxHandshakes: 32,
      maxChannelsPerConnection: 9,
      idleMs: 60_000,
      readyTimeoutMs: 10_000,
      keepaliveIntervalMs: 5_000,
      ...options.ssh,
    },
    artifacts,
  );
  const winrm = createWinrmExecution(
    pool,
    keyring,
    {
      maxConcurrentPerHost: 8,
      idleMs: 60_000,
      connectTimeoutMs: 5_000,
      maxEnvelopeSize: 153_600,
      operationTimeoutSeconds: 20,
      ...options.winrm,
    },
    artifacts,
  );
  const lines = createPgOutputLineSink(pool, options.lines);
  // The sandbox and egress policy as executor-worker sets them up (sandbox-config.ts).
  const localPath = '/usr/bin:/bin';
  const root = process.getuid?.() === 0;
  const sandbox = createSandbox({
    bwrap: findProgram('bwrap', localPath),
    user: root ? findSandboxUser('opsc-sandbox') : null,
    path: localPath,
    hidden: [stack.artifactDir, stack.vaultKeyFile, path.dirname(stack.vaultKeyFile)],
  });
  await sandbox.probe();
  const db = new URL(stack.roleUrls.executor);
  const platform = platformServices(
    egressRules([inject('temporalAddress'), serviceRuleText(db.hostname, Number(db.port || 5432))]),
  );
  const egress = createEgressGuard({ allowFor: tenantEgressRules(pool), platform });
  // Bookkeeping as executor-worker wires it: results through the outbox, lookups through the cache.
  const wait = createOutageWait();
  const outbox = createResultOutbox(createPgOutputStore(pool));
  const executions = withLookupCache(
    { ssh, winrm, database: createDatabaseExecution(pool, keyring) },
    createLookupCache({ ttlMs: 300_000, maxEntries: 1_000, wait }),
    pool,
    keyring,
    wait,
  );
  const activities = createExecutionActivities({
    // These tests drive one transport at a time with operations no job plans: they pass the gate,
    // which its own tests (security-review, job-gate) hold to the job's plan.
    jobGate: { admit: async () => undefined },
    store: outbox,
    lines,
    limits: { resultCapBytes: 16_384, storeCapBytes: 1_048_576 },
    allowedLocalCommands: new Set(options.localCommands ?? []),
    sandbox,
    egress,
    notifications: createNotificationExecution(pool, keyring, platform),
    redact: createRedactor(executorSecrets({ vaultPems: [pem], databaseUrl: stack.roleUrls.executor })),
    ...executions,
  });
  return {
    activities,
    ssh,
    winrm,
    lines,
    async close() {
      await ssh.pool.close();
      winrm.pool.close();
      await lines.close();
      await outbox.close(1_000);
      await pool.end();
    },
  };
};
