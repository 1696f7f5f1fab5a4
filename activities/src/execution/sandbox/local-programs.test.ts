import { describe, expect, it } from 'vitest';
import { SpawnError, type ProcessOutcome } from '../run-process.js';
import { checkLocalPrograms } from './local-programs.js';
import type { Sandbox, SandboxRun, SandboxStatus } from './sandbox.js';

/** A sandbox over a fixed set of programs; `ping` exits as told. */
const sandboxOf = (installed: string[], pingExit: number, status: Partial<SandboxStatus> = {}) => {
  const runs: SandboxRun[] = [];
  const sandbox: Sandbox = {
    status: () => ({ ok: true, user: 'opsc-sandbox (999)', checkedAt: new Date().toISOString(), ...status }),
    probe: () => Promise.resolve(sandbox.status()),
    resolve: (program) => {
      if (!installed.includes(program)) throw new SpawnError(`cannot start ${program}: ENOENT`, 'ENOENT');
      return `/usr/bin/${program}`;
    },
    run: (run) => {
      runs.push(run);
      return Promise.resolve({
        exitCode: pingExit,
        stderr: { text: () => (pingExit ? 'ping: socket: Operation not permitted\n' : '') },
      } as unknown as ProcessOutcome);
    },
  };
  return { sandbox, runs };
};

describe('which allowed programs the executor can run', () => {
  it('names the package of a missing diagnostic and tries ICMP once against loopback', async () => {
    const { sandbox, runs } = sandboxOf(['ping', 'date'], 2);
    const checks = await checkLocalPrograms(sandbox, ['traceroute', 'ping', 'date', 'frobnicate']);
    expect(checks).toEqual({
      date: { ok: true },
      frobnicate: { ok: false, reason: 'frobnicate is not installed on the executor' },
      ping: {
        ok: false,
        reason: expect.stringMatching(
          /^ping is installed but it cannot send ICMP from the sandbox: .*net\.ipv4\.ping_group_range.*; it said: ping: socket: Operation not permitted$/,
        ),
      },
      traceroute: {
        ok: false,
        reason: 'traceroute is not installed on the executor (Debian: apt-get install traceroute)',
      },
    });
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ program: '/usr/bin/ping', network: true });
    expect(runs[0]!.args.at(-1)).toBe('127.0.0.1');
  });

  it('counts ping that answers as usable, and nothing as usable when the sandbox cannot run', async () => {
    expect(await checkLocalPrograms(sandboxOf(['ping'], 0).sandbox, ['ping'])).toEqual({ ping: { ok: true } });
    const broken = sandboxOf(['ping'], 0, { ok: false, error: 'bwrap: No permissions to create new namespace' });
    expect(await checkLocalPrograms(broken.sandbox, ['ping'])).toEqual({
      ping: {
        ok: false,
        reason: "the executor's sandbox cannot run commands: bwrap: No permissions to create new namespace",
      },
    });
    expect(broken.runs).toHaveLength(0);
  });
});
