import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startSshFleet, type SshFleet } from '@opsc/testkit';
import { startBenchStack, type BenchStack } from './rollout-stack.js';

export interface SshFleetBench {
  /** The temporary work directory's name prefix, e.g. `opsc-bench-scale-`. */
  workPrefix: string;
  /** sshd hosts to start; targets share them round-robin past this count. */
  hosts: number;
  /** Inventory targets to add, named `<targetPrefix>-0001`, ... */
  targets: number;
  targetPrefix: string;
  tags?: string[];
  /** The executor's activity slots. */
  parallel: number;
  say: (line: string) => void;
}

/**
 * Starts an sshd fleet and the whole stack in a temporary directory, registers one key credential per
 * host and `targets` Linux targets on them, then runs `body`, which returns whether the bench passed.
 * Everything it started is stopped afterwards (and on SIGINT/SIGTERM); the work directory is removed
 * when the bench passed, kept (and named) when it did not, which also sets a failing exit code.
 */
export const runOnSshFleet = async (
  opts: SshFleetBench,
  body: (stack: BenchStack, names: string[]) => Promise<boolean>,
): Promise<void> => {
  const work = await mkdtemp(path.join(os.tmpdir(), opts.workPrefix));
  await chmod(work, 0o755);
  const artifactDir = path.join(work, 'artifacts');
  await mkdir(artifactDir, { recursive: true });
  let fleet: SshFleet | undefined;
  let stack: BenchStack | undefined;
  let ok = false;
  const cleanup = async () => {
    await stack?.stop();
    stack = undefined;
    await fleet?.stop();
    fleet = undefined;
  };
  const onSignal = () => void cleanup().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    opts.say(`starting ${opts.hosts} sshd hosts for ${opts.targets} targets...`);
    fleet = await startSshFleet({ size: opts.hosts, logDir: path.join(work, 'fleet-logs') });
    stack = await startBenchStack(work, { artifactDir, maxConcurrentActivities: opts.parallel });
    const key = fleet.clientKey.privateKey;
    for (const host of fleet.hosts)
      await stack.call('/api/credentials', {
        name: `${host.name}-key`,
        username: host.username,
        secret: { kind: 'ssh-key', privateKey: key },
      });
    const names: string[] = [];
    for (let i = 0; i < opts.targets; i += 1) {
      const host = fleet.hosts[i % opts.hosts]!;
      const name = `${opts.targetPrefix}-${String(i + 1).padStart(4, '0')}`;
      names.push(name);
      await stack.call('/api/inventory/targets', {
        name,
        address: host.address,
        os: 'linux',
        ...(opts.tags ? { tags: opts.tags } : {}),
        services: [{ protocol: 'ssh', port: host.port, credential: `${host.name}-key` }],
      });
    }
    ok = await body(stack, names);
  } finally {
    await cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (ok) await rm(work, { recursive: true, force: true });
    else process.stderr.write(`logs kept in ${work}\n`);
  }
  if (!ok) process.exitCode = 1;
};
