import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { CommandOutput, HostKeyPolicy, LinuxOperationInput, TargetRef } from '@opsc/contracts';
import { LinuxOperation } from '@opsc/contracts';
import type { SshExecution, SshSettings } from '@opsc/activities/execution';
import { startSshFleet, type FleetHostOptions, type SshFleet } from '@opsc/testkit';
import { startHarnessBase, type HarnessBase, type HarnessOptions } from './harness.js';
import { registerTestSecrets } from './secret-registry.js';
import type { RunningOrchestrator, TestStack } from './stack.js';

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
  /** A Temporal server of the test's own instead of the run's shared one. */
  temporalAddress?: string;
  lines?: HarnessOptions['lines'];
  localCommands?: string[];
  orchestratorEnv?: HarnessOptions['orchestratorEnv'];
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
  base: HarnessBase;
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
  const base = await startHarnessBase(label, {
    ...(options.ssh && { ssh: options.ssh }),
    ...(options.lines && { lines: options.lines }),
    ...(options.localCommands && { localCommands: options.localCommands }),
    ...(options.temporalAddress && { temporalAddress: options.temporalAddress }),
    ...(options.orchestratorEnv && { orchestratorEnv: options.orchestratorEnv }),
  });
  try {
    const fleet = await startSshFleet({ size: options.size, ...(options.host && { host: options.host }) });
    base.onClose(() => fleet.stop());
    registerTestSecrets(`ssh fleet of ${label}`, [
      ...fleet.hosts.map((host) => host.password),
      fleet.clientKey.passphrase,
      ...fleet.clientKey.privateKey.split('\n').filter((line) => line.length > 40),
    ]);
    const { activities, ssh } = base.executor;

    const targetIds: string[] = [];
    for (const [index, host] of fleet.hosts.entries()) {
      const style = options.credential?.(index) ?? 'key';
      const secret =
        style === 'password'
          ? { kind: 'password', password: host.password }
          : style === 'encrypted-key'
            ? {
                kind: 'ssh-key',
                privateKey: fleet.clientKey.encryptedPrivateKey,
                passphrase: fleet.clientKey.passphrase,
                sudoPassword: host.password,
              }
            : { kind: 'ssh-key', privateKey: fleet.clientKey.privateKey, sudoPassword: host.password };
      const policy = options.hostKeyPolicy?.(index);
      const credential = `${host.name}-${style}`;
      targetIds.push(
        await base.addTarget(
          { name: credential, username: host.username, secret },
          {
            name: host.name,
            address: host.address,
            os: 'linux',
            tags: ['fleet'],
            services: [{ protocol: 'ssh', port: host.port, credential, ...(policy && { hostKeyPolicy: policy }) }],
          },
        ),
      );
    }
    await base.addGroups(
      Object.fromEntries(
        Object.entries(options.groups ?? {}).map(([group, indexes]) => [group, indexes.map((i) => hostName(fleet, i))]),
      ),
    );

    const { stack, orchestrator, admin, jobId } = base;
    return {
      base,
      stack,
      fleet,
      orchestrator,
      admin,
      ssh,
      targetIds,
      jobId,
      async run(target, operation, runOptions = {}) {
        const env = runOptions.env ?? new MockActivityEnvironment();
        const ref =
          typeof target === 'number' ? { id: targetIds[target] ?? '', name: hostName(fleet, target) } : target;
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
      stored: (index, stepId) => base.stored(targetIds[index], stepId),
      close: () => base.close(),
    };
  } catch (err) {
    await base.close();
    throw err;
  }
};
