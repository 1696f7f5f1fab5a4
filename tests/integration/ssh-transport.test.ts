import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TargetRef } from '@opsc/contracts';
import { requestJson } from '../support/api.js';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.js';
import { failureOf } from '../support/failures.js';

// Host roles: 0 key + passwordless sudo, 1 password + sudo that asks for it, 2 keyboard-interactive
// only, 3 passphrase-protected key + no sudo rights, 4 strict host key policy, 5 the fault cases' victim.
let h: SshHarness;

beforeAll(async () => {
  h = await startSshHarness('ssh-transport', {
    size: 6,
    host: (i) =>
      ({
        1: { sudo: 'password' as const },
        2: { auth: 'keyboard-interactive' as const },
        3: { sudo: 'none' as const },
      })[i] ?? {},
    credential: (i) => (i === 1 || i === 2 ? 'password' : i === 3 ? 'encrypted-key' : 'key'),
    hostKeyPolicy: (i) => (i === 4 ? 'strict' : undefined),
  });
}, 180_000);

afterAll(async () => {
  await h?.close();
});

/** Processes of the host user whose command line contains `text` (the pattern's brackets keep pgrep from finding itself). */
const remoteProcesses = async (index: number, text: string): Promise<string> => {
  const pattern = `[${text.slice(0, 1)}]${text.slice(1)}`;
  return (await h.fleet.exec(index, `pgrep -af '${pattern}' || true`)).stdout.trim();
};

/** A second inventory target for a fleet host, with a credential of the test's choosing. */
const extraTarget = async (
  index: number,
  name: string,
  secret: Record<string, unknown>,
  username?: string,
): Promise<TargetRef> => {
  const host = h.fleet.hosts[index]!;
  const api = (path: string, body: unknown) =>
    requestJson(`${h.orchestrator.apiUrl}${path}`, { token: h.admin.token, body });
  expect(
    (await api('/api/credentials', { name: `${name}-cred`, username: username ?? host.username, secret })).status,
  ).toBe(201);
  const res = await api('/api/inventory/targets', {
    name,
    address: host.address,
    os: 'linux',
    services: [{ protocol: 'ssh', port: host.port, credential: `${name}-cred` }],
  });
  expect(res.status).toBe(201);
  return { id: (res.body as { target: { id: string } }).target.id, name };
};

describe('authentication and host keys', () => {
  it('logs in with a key, pins the host key on first contact and reuses one connection across steps', async () => {
    const first = await h.run(0, { op: 'run', argv: ['id', '-un'] });
    expect(first.exitCode).toBe(0);
    expect(first.stdout.trim()).toBe(h.fleet.hosts[0]!.username);
    const { rows } = await h.stack.pool.query('SELECT fingerprint, source FROM ssh_host_keys WHERE target_id = $1', [
      h.targetIds[0],
    ]);
    expect(rows).toEqual([{ fingerprint: h.fleet.hosts[0]!.hostKey.fingerprint, source: 'first-contact' }]);
    // Twelve steps at once (more than one connection's channel limit) while the host counts sessions.
    const outs = await Promise.all(Array.from({ length: 12 }, () => h.run(0, { op: 'script', script: 'sleep 0.2' })));
    expect(outs.every((o) => o.exitCode === 0)).toBe(true);
    // sshd forks one privileged process per connection: the executor's pooled one, and this check's own.
    const user = h.fleet.hosts[0]!.username;
    const sessions = await h.fleet.exec(0, `pgrep -c -f '^sshd: ${user} \\[priv\\]'`);
    expect(Number(sessions.stdout.trim())).toBe(2);
  });

  it('logs in with a password, with keyboard-interactive only, and with a passphrase-protected key', async () => {
    for (const i of [1, 2, 3]) {
      const out = await h.run(i, { op: 'run', argv: ['id', '-un'] });
      expect(out.stdout.trim(), `host ${i}`).toBe(h.fleet.hosts[i]!.username);
    }
  });

  it('refuses a wrong password as a non-retryable AuthFailed that names no secret', async () => {
    const target = await extraTarget(1, 'wrong-password', { kind: 'password', password: 'not-the-password' });
    const failure = await failureOf(h.run(target, { op: 'run', argv: ['true'] }));
    expect(failure.type).toBe('AuthFailed');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('wrong-password');
    expect(failure.message).not.toContain('not-the-password');
  });

  it('refuses a key with the wrong passphrase as AuthFailed', async () => {
    const target = await extraTarget(3, 'wrong-passphrase', {
      kind: 'ssh-key',
      privateKey: h.fleet.clientKey.encryptedPrivateKey,
      passphrase: 'nope',
    });
    const failure = await failureOf(h.run(target, { op: 'run', argv: ['true'] }));
    expect(failure.type).toBe('AuthFailed');
    expect(failure.nonRetryable).toBe(true);
  });

  it('treats an unpinned key under the strict policy as a mismatch until it is enrolled', async () => {
    const refused = await failureOf(h.run(4, { op: 'run', argv: ['true'] }));
    expect(refused.type).toBe('HostKeyMismatch');
    expect(refused.nonRetryable).toBe(true);
    expect(refused.message).toContain('strict');
    const enrolled = await h.run(4, { op: 'host-key-enrol' });
    expect(enrolled.facts).toMatchObject({ fingerprint: h.fleet.hosts[4]!.hostKey.fingerprint, pinned: 'new' });
    expect((await h.run(4, { op: 'run', argv: ['true'] })).exitCode).toBe(0);
  });

  it('refuses a changed host key as a non-retryable HostKeyMismatch naming both fingerprints', async () => {
    await h.run(5, { op: 'run', argv: ['true'] });
    const pinned = h.fleet.hosts[5]!.hostKey.fingerprint;
    await h.fleet.startHost(5, { newHostKey: true });
    const presented = h.fleet.hosts[5]!.hostKey.fingerprint;
    expect(presented).not.toBe(pinned);
    const failure = await failureOf(h.run(5, { op: 'run', argv: ['true'] }));
    expect(failure.type).toBe('HostKeyMismatch');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(pinned);
    expect(failure.message).toContain(presented);

    // An admin who checked the re-key forgets the old key through the API (audited); the next step pins the new one.
    const url = `${h.orchestrator.apiUrl}/api/inventory/targets/${h.fleet.hosts[5]!.name}/host-key`;
    expect((await requestJson(url, { token: h.admin.token })).body).toMatchObject({
      hostKey: { fingerprint: pinned, source: 'first-contact' },
    });
    expect((await requestJson(url, { token: h.admin.token, method: 'DELETE' })).status).toBe(204);
    expect((await h.run(5, { op: 'run', argv: ['true'] })).exitCode).toBe(0);
    expect((await requestJson(url, { token: h.admin.token })).body).toMatchObject({
      hostKey: { fingerprint: presented },
    });
    const audit = await h.stack.pool.query(
      `SELECT details FROM audit_log WHERE action = 'inventory.target.host-key.forget'`,
    );
    expect(audit.rows).toEqual([{ details: { fingerprint: pinned } }]);
  });
});

describe('faults', () => {
  it('reports a host whose port is closed as retryable HostUnreachable', async () => {
    await h.fleet.stopHost(5);
    try {
      const failure = await failureOf(h.run(5, { op: 'run', argv: ['true'] }));
      expect(failure.type).toBe('HostUnreachable');
      expect(failure.nonRetryable).toBe(false);
    } finally {
      await h.fleet.startHost(5);
    }
  });

  it('stops a command at its timeout, and the remote process is really gone', async () => {
    const started = Date.now();
    const failure = await failureOf(h.run(0, { op: 'script', script: 'sleep 311; echo never' }, { timeoutSeconds: 2 }));
    expect(failure.type).toBe('Timeout');
    expect(failure.nonRetryable).toBe(false);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(await remoteProcesses(0, 'sleep 311')).toBe('');
  });

  it('kills the remote process group when the activity is cancelled', async () => {
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const running = h.run(0, { op: 'script', script: 'sleep 312 & sleep 313; wait' }, { env, timeoutSeconds: 600 });
    await expect.poll(() => remoteProcesses(0, 'sleep 313'), { timeout: 10_000 }).not.toBe('');
    // Heartbeats carry output progress, so a lost worker is noticed within the heartbeat timeout.
    await expect.poll(() => beats.length, { timeout: 5_000 }).toBeGreaterThan(0);
    expect(beats[0]).toMatchObject({ stdoutBytes: expect.any(Number), stderrBytes: 0 });
    env.cancel();
    await expect(running).rejects.toBeInstanceOf(CancelledFailure);
    await expect.poll(() => remoteProcesses(0, 'sleep 31[23]'), { timeout: 10_000 }).toBe('');
  });

  it('keeps 10 MB of output bounded: capped in the result, capped in PostgreSQL, byte counts exact', async () => {
    const out = await h.run(
      0,
      { op: 'script', script: "head -c 10485760 /dev/zero | tr '\\0' x; echo done >&2" },
      { stepId: 'ten-mb' },
    );
    expect(out.exitCode).toBe(0);
    expect(out.stdoutTruncated).toBe(true);
    expect(out.stdout.length).toBe(16_384);
    expect(out.stderr.trim()).toBe('done');
    const row = await h.stored(0, 'ten-mb');
    expect(row).toMatchObject({ stdout_truncated: true, stdout_bytes: '10485760', stderr_truncated: false });
    expect(String(row?.stdout).length).toBe(1_048_576);
  });

  it('reports a connection killed mid-command as retryable ConnectionLost, and the next step reconnects', async () => {
    const running = h.run(5, { op: 'script', script: 'sleep 30' });
    await expect.poll(() => remoteProcesses(5, 'sleep 30'), { timeout: 10_000 }).not.toBe('');
    expect(await h.fleet.killSessions(5)).toBeGreaterThan(0);
    const failure = await failureOf(running);
    expect(failure.type).toBe('ConnectionLost');
    expect(failure.nonRetryable).toBe(false);
    expect((await h.run(5, { op: 'run', argv: ['true'] })).exitCode).toBe(0);
  });

  it('keeps a non-zero exit a result, not an error', async () => {
    const out = await h.run(0, { op: 'script', script: 'echo oops >&2; exit 7' });
    expect(out).toMatchObject({ exitCode: 7, stderr: 'oops\n' });
  });
});

describe('sudo', () => {
  it('uses sudo -n where sudo needs no password', async () => {
    const out = await h.run(0, { op: 'run', argv: ['id', '-un'] }, { become: true });
    expect(out.stdout.trim()).toBe('opsc-fleet-root');
  });

  it('gives sudo its password on stdin: never on a command line, never to the command', async () => {
    const password = h.fleet.hosts[1]!.password;
    const running = h.run(1, { op: 'script', script: 'id -un; cat; sleep 8' }, { become: true, stepId: 'sudo-stdin' });
    await expect.poll(() => remoteProcesses(1, 'sleep 8'), { timeout: 10_000 }).not.toBe('');
    const commandLines = (await h.fleet.exec(1, 'ps -eo args')).stdout;
    expect(commandLines).not.toContain(password);
    const out = await running;
    // `cat` read the command's stdin: empty, so the password went to sudo alone.
    expect(out.stdout).toBe('opsc-fleet-root\n');
    expect(JSON.stringify(await h.stored(1, 'sudo-stdin'))).not.toContain(password);
  });

  it('reports sudo refusing a user as non-retryable AuthFailed', async () => {
    const failure = await failureOf(h.run(3, { op: 'run', argv: ['true'] }, { become: true }));
    expect(failure.type).toBe('AuthFailed');
    expect(failure.message).toMatch(/sudo refused on fleet-04/);
  });

  it('reports a wrong sudo password as AuthFailed', async () => {
    const target = await extraTarget(1, 'wrong-sudo', {
      kind: 'ssh-key',
      privateKey: h.fleet.clientKey.privateKey,
      sudoPassword: 'Not-Sudo-Pw-42',
    });
    const failure = await failureOf(h.run(target, { op: 'run', argv: ['true'] }, { become: true }));
    expect(failure.type).toBe('AuthFailed');
    expect(failure.message).not.toContain('Not-Sudo-Pw-42');
  });
});
