import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runProcess, SpawnError } from './run-process.js';

const base = { timeoutMs: 10_000, captureCapBytes: 1024, env: { PATH: '/usr/bin:/bin' } };
/** Running, as opposed to gone or a zombie waiting for a reaper (orphans go to PID 1, which may not reap). */
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

describe('runProcess', () => {
  it('passes arguments as argv, never through a shell', async () => {
    const outcome = await runProcess({ ...base, command: 'echo', args: ['$(id)', '; ls', '`x`'] });
    expect(outcome.exitCode).toBe(0);
    expect(outcome.stdout.text()).toBe('$(id) ; ls `x`\n');
  });

  it('captures stdout and stderr apart, and the exit code', async () => {
    const outcome = await runProcess({ ...base, command: 'sh', args: ['-c', 'echo out; echo err >&2; exit 3'] });
    expect([outcome.exitCode, outcome.stdout.text(), outcome.stderr.text()]).toEqual([3, 'out\n', 'err\n']);
  });

  it('caps output and says so', async () => {
    const outcome = await runProcess({ ...base, command: 'head', args: ['-c', '5000', '/dev/zero'] });
    expect(outcome.stdout.totalBytes).toBe(5000);
    expect(outcome.stdout.text().length).toBe(1024);
    expect(outcome.stdout.truncated).toBe(true);
  });

  it('does not pass the parent environment on', async () => {
    process.env.OPSC_TEST_SECRET = 'hunter2';
    const outcome = await runProcess({ ...base, command: 'env', args: [] });
    delete process.env.OPSC_TEST_SECRET;
    expect(outcome.stdout.text()).not.toContain('hunter2');
  });

  it('kills the whole process group on timeout, grandchildren included', async () => {
    const outcome = await runProcess({
      ...base,
      timeoutMs: 500,
      killGraceMs: 200,
      command: 'sh',
      args: ['-c', 'sleep 30 & echo $!; wait'],
    });
    expect(outcome.timedOut).toBe(true);
    const grandchild = Number(outcome.stdout.text().trim());
    await new Promise((r) => setTimeout(r, 300));
    expect(alive(grandchild)).toBe(false);
    expect(outcome.durationMs).toBeLessThan(5_000);
  });

  it('stops on abort, as a cancelled activity does', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const outcome = await runProcess({ ...base, command: 'sleep', args: ['30'], signal: controller.signal });
    expect(outcome.aborted).toBe(true);
    expect(outcome.signal).toBe('SIGTERM');
  });

  it('reports a program that does not exist', async () => {
    await expect(runProcess({ ...base, command: 'no-such-program-opsc', args: [] })).rejects.toBeInstanceOf(SpawnError);
    expect(() => execFileSync('true')).not.toThrow();
  });
});
