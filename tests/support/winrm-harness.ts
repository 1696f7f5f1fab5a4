import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { WindowsOperation, type CommandOutput, type TargetRef, type WindowsOperationInput } from '@opsc/contracts';
import type { WinrmExecution, WinrmSettings } from '@opsc/activities/execution';
import { startWinrmFleet, type WinHostOptions, type WinrmFleet } from '@opsc/testkit';
import { startHarnessBase, type HarnessBase, type HarnessOptions } from './harness.js';
import { requestJson } from './api.js';
import { registerTestSecrets } from './secret-registry.js';

/** How a host is reached: NTLM over HTTP (sealed bodies), NTLM or Basic over verified HTTPS, or a client certificate. */
export type WinrmAuthStyle = 'ntlm' | 'ntlm-https' | 'basic-https' | 'basic-http' | 'certificate';

export interface WinrmHarnessOptions {
  size: number;
  /** First host on 127.0.0.<firstOctet>; keep clear of an SSH fleet started alongside. */
  firstOctet?: number;
  host?: (index: number) => WinHostOptions;
  auth?: (index: number) => WinrmAuthStyle;
  /** Trust the fleet's CA for https hosts (default); false leaves the self-signed chain untrusted. */
  trustCa?: (index: number) => boolean;
  /** The password stored in the vault (default: the host's real one). */
  password?: (index: number, real: string) => string;
  groups?: Record<string, number[]>;
  winrm?: Partial<WinrmSettings>;
  lines?: HarnessOptions['lines'];
  /** A Temporal server of the test's own instead of the run's shared one. */
  temporalAddress?: string;
  orchestratorEnv?: HarnessOptions['orchestratorEnv'];
}

export interface WinrmRunOptions {
  timeoutSeconds?: number;
  stepId?: string;
  /** Lets a test cancel the activity or watch its heartbeats. */
  env?: MockActivityEnvironment;
}

export interface WinrmHarness extends Pick<HarnessBase, 'stack' | 'orchestrator' | 'admin' | 'jobId' | 'api'> {
  base: HarnessBase;
  fleet: WinrmFleet;
  winrm: WinrmExecution;
  /** Inventory target ids by host index. */
  targetIds: string[];
  run(target: number | TargetRef, operation: WindowsOperationInput, options?: WinrmRunOptions): Promise<CommandOutput>;
  stored(index: number, stepId: string): Promise<Record<string, unknown> | undefined>;
  close(): Promise<void>;
}

/**
 * Simulated Windows hosts behind a real WS-Management endpoint each, a real database and vault,
 * inventory created through the real API, and the executor's WinRM activity run in this process.
 */
export const startWinrmHarness = async (label: string, options: WinrmHarnessOptions): Promise<WinrmHarness> => {
  const base = await startHarnessBase(label, {
    ...(options.winrm && { winrm: options.winrm }),
    ...(options.lines && { lines: options.lines }),
    ...(options.temporalAddress && { temporalAddress: options.temporalAddress }),
    ...(options.orchestratorEnv && { orchestratorEnv: options.orchestratorEnv }),
  });
  try {
    const fleet = await startWinrmFleet({
      size: options.size,
      ...(options.firstOctet && { firstOctet: options.firstOctet }),
      ...(options.host && { host: options.host }),
    });
    base.onClose(() => fleet.stop());
    registerTestSecrets(`winrm fleet of ${label}`, [
      ...fleet.hosts.map((host) => host.password),
      ...fleet.clientCertificate.privateKey.split('\n').filter((line) => line.length > 40),
    ]);
    const targetIds: string[] = [];
    for (const [index, host] of fleet.hosts.entries()) {
      const style = options.auth?.(index) ?? 'ntlm';
      const https = style !== 'ntlm' && style !== 'basic-http';
      const transport = style === 'certificate' ? 'certificate' : style.startsWith('basic') ? 'basic' : 'ntlm';
      const password = options.password?.(index, host.password) ?? host.password;
      const secret =
        style === 'certificate'
          ? { kind: 'client-certificate', ...fleet.clientCertificate }
          : { kind: 'winrm', password };
      const credential = `${host.name}-${style}`;
      targetIds.push(
        await base.addTarget(
          {
            name: credential,
            username: transport === 'ntlm' ? `${host.domain}\\${host.username}` : host.username,
            metadata: { transport },
            secret,
          },
          {
            name: host.name,
            address: host.address,
            os: 'windows',
            tags: ['windows'],
            services: [
              {
                protocol: 'winrm',
                scheme: https ? 'https' : 'http',
                port: https ? host.httpsPort : host.httpPort,
                transport,
                credential,
                ...(https && (options.trustCa?.(index) ?? true) && { caCertificate: fleet.caCertificate }),
              },
            ],
          },
        ),
      );
    }
    const name = (i: number) => fleet.hosts[i]?.name ?? `host-${i}`;
    await base.addGroups(
      Object.fromEntries(Object.entries(options.groups ?? {}).map(([group, indexes]) => [group, indexes.map(name)])),
    );

    const { activities, winrm } = base.executor;
    return {
      base,
      stack: base.stack,
      orchestrator: base.orchestrator,
      admin: base.admin,
      jobId: base.jobId,
      api: base.api,
      fleet,
      winrm,
      targetIds,
      async run(target, operation, runOptions = {}) {
        const env = runOptions.env ?? new MockActivityEnvironment();
        const ref = typeof target === 'number' ? { id: targetIds[target] ?? '', name: name(target) } : target;
        if (!ref.id) throw new RangeError(`no host ${String(target)}`);
        return env.run(activities.runWinrmOperation, {
          jobId: base.jobId,
          stepId: runOptions.stepId ?? `s-${randomUUID().slice(0, 8)}`,
          target: ref,
          timeoutSeconds: runOptions.timeoutSeconds ?? 60,
          operation: WindowsOperation.parse(operation),
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

/**
 * Registers a WinRM fleet's hosts in another harness's inventory through the API: one NTLM
 * credential (`<host>-ntlm`) and one target per host, its secrets registered with the secret scan.
 * Returns the targets' ids in the fleet's order.
 */
export const registerWinrmHosts = async (
  apiUrl: string,
  token: string,
  fleet: WinrmFleet,
  label: string,
): Promise<string[]> => {
  registerTestSecrets(
    `windows hosts of ${label}`,
    fleet.hosts.map((host) => host.password),
  );
  const api = (path: string, body: unknown) => requestJson(`${apiUrl}${path}`, { token, body });
  const ids: string[] = [];
  for (const host of fleet.hosts) {
    const credential = `${host.name}-ntlm`;
    const cred = await api('/api/credentials', {
      name: credential,
      username: `${host.domain}\\${host.username}`,
      metadata: { transport: 'ntlm' },
      secret: { kind: 'winrm', password: host.password },
    });
    if (cred.status !== 201) throw new Error(`credential ${credential}: ${cred.status} ${JSON.stringify(cred.body)}`);
    const created = await api('/api/inventory/targets', {
      name: host.name,
      address: host.address,
      os: 'windows',
      services: [{ protocol: 'winrm', scheme: 'http', port: host.httpPort, transport: 'ntlm', credential }],
    });
    if (created.status !== 201)
      throw new Error(`target ${host.name}: ${created.status} ${JSON.stringify(created.body)}`);
    ids.push((created.body as { target: { id: string } }).target.id);
  }
  return ids;
};
