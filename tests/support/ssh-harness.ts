import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { CommandOutput, HostKeyPolicy, LinuxOperationInput, TargetRef } from '@opsc/contracts';
import { LinuxOperation } from '@opsc/contracts';
import type { SshExecution, SshSettings } from '@opsc/activities/execution';
import { startSshFleet, type FleetHostOptions, type SshFleet } from '@opsc/testkit';
import { requestJson } from './api.js';
import { createTestExecutor } from './executor.js';
import { createTestStack, type RunningOrchestrator, type TestStack } from './stack.js';

/** How a host's credential is stored in the vault. */
export type CredentialStyle = 'key' | 'encrypted-key' | 'password';

export interface SshHarnessOptions {
  size: number;
  host?: (index: number) => FleetHostOptions;
  credential?: (index: number) => CredentialStyle;
  hostKeyPolicy?: (index: number) => HostKeyPolicy | undefined;
  /** Inventory groups to create: name -> host indexes. */
  groups?: Record<string, number[]>;
  ssh?: Partial<SshSettings>;
}

export interface RunOptions {
  become?: boolean;
  timeoutSeconds?: number;
  stepId?: string;
  /** Lets a test cancel the activity or watch its heartbeats. */
  env?: MockActivityEnvironment;
}

/**
 * A real sshd fleet, a real database and vault, inventory created through the real API, and the
 * executor's activities run in this process against them (in a mocked activity context, so a test
 * can cancel them and see their heartbeats).
 */
export interface SshHarness {
  stack: TestStack;
  fleet: SshFleet;
  orchestrator: RunningOrchestrator;
  admin: { token: string; tenantId: string };
  ssh: SshExecution;
  /** Inventory target ids by host index. */
  targetIds: string[];
  /** A job of the harness' tenant, for the activities' tenant check. */
  jobId: string;
  /** Runs an operation on a fleet host (by index) or on any inventory target of the tenant. */
  run(target: number | TargetRef, operation: LinuxOperationInput, options?: RunOptions): Promise<CommandOutput>;
  /** The stored record of a step on a host. */
  stored(index: number, stepId: string): Promise<Record<string, unknown> | undefined>;
  close(): Promise<void>;
}

export const hostName = (fleet: SshFleet, index: number): string => fleet.hosts[index]?.name ?? `host-${index}`;

export const startSshHarness = async (label: string, options: SshHarnessOptions): Promise<SshHarness> => {
  const stack = await createTestStack(label);
  const cleanups: (() => Promise<unknown>)[] = [() => stack.close()];
  try {
    const fleet = await startSshFleet({ size: options.size, ...(options.host && { host: options.host }) });
    cleanups.unshift(() => fleet.stop());
    const executor = await createTestExecutor(stack, { ...(options.ssh && { ssh: options.ssh }) });
    cleanups.unshift(() => executor.close());
    const { activities, ssh } = executor;
    const orchestrator = await stack.startOrchestrator();
    const admin = await stack.createUser('admin');
    const api = (path: string, body: unknown) => requestJson(`${orchestrator.apiUrl}${path}`, { token: admin.token, body });

    const targetIds: string[] = [];
    for (const [index, host] of fleet.hosts.entries()) {
      const style = options.credential?.(index) ?? 'key';
      const name = `${host.name}-${style}`;
      const secret =
        style === 'password'
          ? { kind: 'password', password: host.password }
          : style === 'encrypted-key'
            ? { kind: 'ssh-key', privateKey: fleet.clientKey.encryptedPrivateKey, passphrase: fleet.clientKey.passphrase, sudoPassword: host.password }
            : { kind: 'ssh-key', privateKey: fleet.clientKey.privateKey, sudoPassword: host.password };
      const cred = await api('/api/credentials', { name, username: host.username, secret });
      if (cred.status !== 201) throw new Error(`credential ${name}: ${cred.status} ${JSON.stringify(cred.body)}`);
      const policy = options.hostKeyPolicy?.(index);
      const target = await api('/api/inventory/targets', {
        name: host.name,
        address: host.address,
        os: 'linux',
        tags: ['fleet'],
        services: [{ protocol: 'ssh', port: host.port, credential: name, ...(policy && { hostKeyPolicy: policy }) }],
      });
      if (target.status !== 201) throw new Error(`target ${host.name}: ${target.status} ${JSON.stringify(target.body)}`);
      targetIds.push((target.body as { target: { id: string } }).target.id);
    }
    for (const [group, indexes] of Object.entries(options.groups ?? {})) {
      const res = await api('/api/inventory/groups', { name: group, targets: indexes.map((i) => hostName(fleet, i)) });
      if (res.status !== 201) throw new Error(`group ${group}: ${res.status} ${JSON.stringify(res.body)}`);
    }

    const jobId = `job-${randomUUID()}`;
    await stack.pool.query(
      `INSERT INTO jobs (id, tenant_id, name, plan, plan_hash, requested_by, status) VALUES ($1, $2, 'ssh harness', '{}', $3, 'harness', 'running')`,
      [jobId, admin.tenantId, '0'.repeat(64)],
    );
    return {
      stack,
      fleet,
      orchestrator,
      admin,
      ssh,
      targetIds,
      jobId,
      async run(target, operation, runOptions = {}) {
        const env = runOptions.env ?? new MockActivityEnvironment();
        const ref = typeof target === 'number' ? { id: targetIds[target] ?? '', name: hostName(fleet, target) } : target;
        if (!ref.id) throw new RangeError(`no host ${String(target)}`);
        return env.run(activities.runSshOperation, {
          jobId,
          stepId: runOptions.stepId ?? `s-${randomUUID().slice(0, 8)}`,
          target: ref,
          timeoutSeconds: runOptions.timeoutSeconds ?? 60,
          operation: LinuxOperation.parse(operation),
          become: runOptions.become ?? false,
        });
      },
      async stored(index, stepId) {
        const { rows } = await stack.pool.query('SELECT * FROM step_results WHERE job_id = $1 AND step_id = $2 AND target_id = $3', [
          jobId,
          stepId,
          targetIds[index],
        ]);
        return rows[0] as Record<string, unknown> | undefined;
      },
      async close() {
        for (const cleanup of cleanups) await cleanup().catch(() => undefined);
      },
    };
  } catch (err) {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    throw err;
  }
};
