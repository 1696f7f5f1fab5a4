import { readFileSync } from 'node:fs';
import pg from 'pg';
import {
  createDatabaseExecution,
  createExecutionActivities,
  createPgOutputLineSink,
  createPgOutputStore,
  createSshExecution,
  createWinrmExecution,
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
  options: { ssh?: Partial<SshSettings>; winrm?: Partial<WinrmSettings>; lines?: PgOutputLineOptions; localCommands?: string[] } = {},
): Promise<TestExecutor> => {
  const pool = new pg.Pool({ connectionString: stack.roleUrls.executor, max: 20 });
  const keyring = createKeyring([readFileSync(stack.vaultKeyFile, 'utf8')]);
  await publishVaultKey(pool, keyring);
  const ssh = createSshExecution(pool, keyring, {
    artifactDir: stack.artifactDir,
    defaultHostKeyPolicy: 'accept-new',
    maxHandshakes: 32,
    maxChannelsPerConnection: 9,
    idleMs: 60_000,
    readyTimeoutMs: 10_000,
    keepaliveIntervalMs: 5_000,
    ...options.ssh,
  });
  const winrm = createWinrmExecution(pool, keyring, {
    artifactDir: stack.artifactDir,
    maxConcurrentPerHost: 8,
    idleMs: 60_000,
    connectTimeoutMs: 5_000,
    maxEnvelopeSize: 153_600,
    operationTimeoutSeconds: 20,
    ...options.winrm,
  });
  const lines = createPgOutputLineSink(pool, options.lines);
  const activities = createExecutionActivities({
    store: createPgOutputStore(pool),
    lines,
    limits: { resultCapBytes: 16_384, storeCapBytes: 1_048_576 },
    allowedLocalCommands: new Set(options.localCommands ?? []),
    localPath: '/usr/bin:/bin',
    ssh,
    winrm,
    database: createDatabaseExecution(pool, keyring),
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
      await pool.end();
    },
  };
};
