import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/api.js';
import { startWinrmHarness, type WinrmAuthStyle, type WinrmHarness } from '../support/winrm-harness.js';
import { failureOf } from '../support/failures.js';

// The executor's WinRM client against WS-Management endpoints that speak the real protocol (HTTP
// and HTTPS, NTLM with sealed messages, Basic, client certificates, WSManFaults), one per
// simulated Windows host on 127.0.0.x.
const AUTH: WinrmAuthStyle[] = [
  'ntlm',
  'basic-https',
  'certificate',
  'ntlm-https',
  'basic-https',
  'ntlm',
  'ntlm',
  'ntlm',
];
const UNTRUSTED = 4;
const WRONG_PASSWORD = 5;
const ONE_SHELL = 6;
const DOWN = 7;

let h: WinrmHarness;

beforeAll(async () => {
  h = await startWinrmHarness('winrm-transport', {
    size: AUTH.length,
    firstOctet: 30,
    auth: (i) => AUTH[i] ?? 'ntlm',
    trustCa: (i) => i !== UNTRUSTED,
    password: (i, real) => (i === WRONG_PASSWORD ? `${real}-not` : real),
    host: (i) => (i === ONE_SHELL ? { maxShells: 1 } : {}),
    // Short, so the operation-timeout fault comes up in ordinary commands.
    winrm: { operationTimeoutSeconds: 2 },
  });
}, 240_000);

afterAll(async () => {
  await h?.close();
});

describe('WinRM transport', () => {
  it('seals every NTLM message over plain HTTP and authenticates a kept connection once', async () => {
    const first = await h.run(0, { op: 'powershell', script: "Write-Output 'Zürich ✓ 東京'" });
    const second = await h.run(0, { op: 'powershell', script: "Write-Output 'again'" });
    expect(first.exitCode).toBe(0);
    expect(first.stdout.trim()).toBe('Zürich ✓ 東京');
    expect(second.stdout.trim()).toBe('again');
    const stats = h.fleet.stats(0);
    expect(stats.authentications.ntlm).toBe(1);
    expect(stats.encryptedRequests).toBeGreaterThanOrEqual(8);
  });

  it.each([
    [1, 'basic'],
    [2, 'certificate'],
    [3, 'ntlm'],
  ] as const)(
    'reaches host %i over HTTPS with %s auth, the server certificate verified against the target CA',
    async (index, kind) => {
      const out = await h.run(index, { op: 'command', program: 'hostname' });
      expect(out.exitCode).toBe(0);
      expect(out.stdout.trim()).toBe(h.fleet.hosts[index]?.hostname);
      expect(h.fleet.stats(index).authentications[kind]).toBeGreaterThanOrEqual(1);
      expect(h.fleet.stats(index).encryptedRequests).toBe(0);
    },
  );

  it('refuses an untrusted server certificate without retrying', async () => {
    const failure = await failureOf(h.run(UNTRUSTED, { op: 'command', program: 'hostname' }));
    expect(failure.type).toBe('AuthFailed');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/certificate .* is not trusted/);
    expect(h.fleet.stats(UNTRUSTED).requests).toBe(0);
  });

  it('reports a wrong password as AuthFailed, not retried, and keeps the password out of the message and the record', async () => {
    const stepId = 'wrong-password';
    const failure = await failureOf(h.run(WRONG_PASSWORD, { op: 'command', program: 'hostname' }, { stepId }));
    expect(failure.type).toBe('AuthFailed');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/refused the credentials of .*win-06.*\(NTLM\)/i);
    const password = h.fleet.hosts[WRONG_PASSWORD]?.password ?? '';
    expect(failure.message).not.toContain(password);
    const record = await h.stored(WRONG_PASSWORD, stepId);
    expect(record).toMatchObject({ method: 'winrm', error_type: 'AuthFailed' });
    expect(JSON.stringify(record)).not.toContain(password);
  });

  it('reports a host that is down as HostUnreachable, retryable, and reaches it again once it is up', async () => {
    await h.fleet.stopHost(DOWN);
    const failure = await failureOf(h.run(DOWN, { op: 'command', program: 'hostname' }));
    expect(failure.type).toBe('HostUnreachable');
    expect(failure.nonRetryable).toBe(false);
    await h.fleet.startHost(DOWN);
    expect((await h.run(DOWN, { op: 'command', program: 'hostname' })).exitCode).toBe(0);
  });

  it('sends a script longer than the command line over stdin', async () => {
    const script = `# ${'padding '.repeat(1_500)}\nWrite-Output 'the long script ran'`;
    const out = await h.run(0, { op: 'powershell', script });
    expect(out.stdout.trim()).toBe('the long script ran');
  });

  it('collects output that takes several Receives, complete and in order', async () => {
    const out = await h.run(
      0,
      { op: 'powershell', script: '1..4000 | ForEach-Object { Write-Output "line $_" }' },
      { stepId: 'many-lines' },
    );
    const record = await h.stored(0, 'many-lines');
    const lines = String(record?.stdout).trim().split(/\r?\n/);
    expect(lines).toHaveLength(4000);
    expect(lines[0]).toBe('line 1');
    expect(lines[3999]).toBe('line 4000');
    expect(out.stdoutTruncated).toBe(true);
    expect(Number(record?.stdout_bytes)).toBeGreaterThan(16_384);
  });

  it('turns the CLIXML error stream into readable text and keeps the exit code', async () => {
    const out = await h.run(0, { op: 'powershell', script: "Write-Error 'the disk is on fire'\nexit 3" });
    expect(out.exitCode).toBe(3);
    expect(out.stderr).toContain('the disk is on fire');
    expect(out.stderr).not.toMatch(/CLIXML|<Objs/);
  });

  it('asks again after the operation-timeout fault until the command ends', async () => {
    const before = h.fleet.stats(0).faults['2150858793'] ?? 0;
    const out = await h.run(0, { op: 'powershell', script: "Start-Sleep -Seconds 5\nWrite-Output 'after the wait'" });
    expect(out.stdout.trim()).toBe('after the wait');
    expect((h.fleet.stats(0).faults['2150858793'] ?? 0) - before).toBeGreaterThanOrEqual(1);
  });

  it('waits out the shell quota fault instead of failing', async () => {
    const sleep = { op: 'powershell', script: "Start-Sleep -Seconds 2\nWrite-Output 'slept'" } as const;
    const results = await Promise.all([h.run(ONE_SHELL, sleep), h.run(ONE_SHELL, sleep)]);
    expect(results.map((r) => r.stdout.trim())).toEqual(['slept', 'slept']);
    expect(h.fleet.stats(ONE_SHELL).faults['2150859173']).toBeGreaterThanOrEqual(1);
  });

  it('reports a WSManFault (HTTP 500) as Unavailable, retryable, naming the fault', async () => {
    h.fleet.failRequests(3, 1);
    const failure = await failureOf(h.run(3, { op: 'command', program: 'hostname' }));
    expect(failure.type).toBe('Unavailable');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toMatch(/WS-Management fault 2150858755/);
    expect((await h.run(3, { op: 'command', program: 'hostname' })).exitCode).toBe(0);
  });

  it('stops a command that outlives its step timeout: Timeout, the command terminated and the shell deleted', async () => {
    const started = Date.now();
    const failure = await failureOf(
      h.run(0, { op: 'powershell', script: 'Start-Sleep -Seconds 60' }, { timeoutSeconds: 2, stepId: 'too-slow' }),
    );
    expect(failure.type).toBe('Timeout');
    expect(failure.nonRetryable).toBe(false);
    expect(Date.now() - started).toBeLessThan(15_000);
    await eventually(
      async () => (h.fleet.stats(0).openShells === 0 ? true : undefined),
      10_000,
      'the shell to be deleted',
    );
    expect(await h.stored(0, 'too-slow')).toMatchObject({ error_type: 'Timeout' });
  });

  it('terminates the remote command when the activity is cancelled', async () => {
    const env = new MockActivityEnvironment();
    const heartbeats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => heartbeats.push(d));
    const running = h.run(0, { op: 'powershell', script: 'Start-Sleep -Seconds 60' }, { env });
    await eventually(
      async () => (h.fleet.stats(0).openShells > 0 && heartbeats.length > 0 ? true : undefined),
      10_000,
      'the command to start',
    );
    env.cancel();
    await expect(running).rejects.toThrow(/cancel/i);
    await eventually(
      async () => (h.fleet.stats(0).openShells === 0 ? true : undefined),
      10_000,
      'the shell to be deleted',
    );
  });
});
