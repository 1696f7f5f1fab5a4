import { randomUUID } from 'node:crypto';
import type { PgOutputLineOptions, SshSettings, WinrmSettings } from '@opsc/activities/execution';
import { requestJson, type JsonResponse } from './api.js';
import { createTestExecutor, type TestExecutor } from './executor.js';
import { createTestStack, type RunningOrchestrator, type TestStack } from './stack.js';

/**
 * What the SSH and WinRM harnesses share: a database and vault, the real API with an admin,
 * the executor's activities in this process, and a job of the admin's tenant for the
 * activities' tenant check.
 */
export interface HarnessBase {
  stack: TestStack;
  orchestrator: RunningOrchestrator;
  admin: { token: string; tenantId: string; username: string };
  executor: TestExecutor;
  jobId: string;
  api(path: string, body: unknown): Promise<JsonResponse>;
  /** Creates a credential and a target using it through the API; returns the target id. */
  addTarget(
    credential: { name: string; username: string; metadata?: Record<string, unknown>; secret: unknown },
    target: Record<string, unknown>,
  ): Promise<string>;
  addGroups(groups: Record<string, string[]>): Promise<void>;
  /** The stored record of a step on a target. */
  stored(targetId: string | undefined, stepId: string): Promise<Record<string, unknown> | undefined>;
  /** Runs `cleanup` first when the harness closes (last added, first run). */
  onClose(cleanup: () => Promise<unknown>): void;
  close(): Promise<void>;
}

export interface HarnessOptions {
  ssh?: Partial<SshSettings>;
  winrm?: Partial<WinrmSettings>;
  lines?: PgOutputLineOptions;
  /** Programs runLocalCommand may start. */
  localCommands?: string[];
  /** A Temporal server of the test's own instead of the run's shared one. */
  temporalAddress?: string;
  /** Extra environment of the orchestrator (the web app's origin, for browser tests). */
  orchestratorEnv?: Record<string, string>;
}

export const startHarnessBase = async (label: string, options: HarnessOptions = {}): Promise<HarnessBase> => {
  const stack = await createTestStack(
    label,
    options.temporalAddress ? { temporalAddress: options.temporalAddress } : {},
  );
  const cleanups: (() => Promise<unknown>)[] = [() => stack.close()];
  const close = async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => undefined);
  };
  try {
    const executor = await createTestExecutor(stack, options);
    cleanups.unshift(() => executor.close());
    const orchestrator = await stack.startOrchestrator(options.orchestratorEnv);
    const admin = await stack.createUser('admin');
    const api = (path: string, body: unknown) =>
      requestJson(`${orchestrator.apiUrl}${path}`, { token: admin.token, body });
    const jobId = `job-${randomUUID()}`;
    await stack.pool.query(
      `INSERT INTO jobs (id, tenant_id, name, plan, plan_hash, requested_by, status) VALUES ($1, $2, 'harness', '{}', $3, 'harness', 'running')`,
      [jobId, admin.tenantId, '0'.repeat(64)],
    );
    return {
      stack,
      orchestrator,
      admin,
      executor,
      jobId,
      api,
      async addTarget(credential, target) {
        const cred = await api('/api/credentials', credential);
        if (cred.status !== 201)
          throw new Error(`credential ${credential.name}: ${cred.status} ${JSON.stringify(cred.body)}`);
        const created = await api('/api/inventory/targets', target);
        if (created.status !== 201)
          throw new Error(`target ${String(target.name)}: ${created.status} ${JSON.stringify(created.body)}`);
        return (created.body as { target: { id: string } }).target.id;
      },
      async addGroups(groups) {
        for (const [name, targets] of Object.entries(groups)) {
          const res = await api('/api/inventory/groups', { name, targets });
          if (res.status !== 201) throw new Error(`group ${name}: ${res.status} ${JSON.stringify(res.body)}`);
        }
      },
      async stored(targetId, stepId) {
        const { rows } = await stack.pool.query(
          'SELECT * FROM step_results WHERE job_id = $1 AND step_id = $2 AND target_id = $3',
          [jobId, stepId, targetId],
        );
        return rows[0] as Record<string, unknown> | undefined;
      },
      onClose: (cleanup) => cleanups.unshift(cleanup),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
};
