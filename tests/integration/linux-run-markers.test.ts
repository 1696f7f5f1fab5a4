import { rmSync, writeFileSync } from 'node:fs';
import { MockActivityEnvironment } from '@temporalio/testing';
import { CancelledFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TargetRef } from '@opsc/contracts';
import { failureOf } from '../support/failures.js';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.js';
import { uploadArtifact } from '../support/artifacts.js';

// A retried step (same job, step and target: an executor SIGKILLed mid-step, a connection lost)
// must not apply its change twice. Host 0 only; a second inventory target points at the same host.
let h: SshHarness;
let twin: TargetRef;

beforeAll(async () => {
  h = await startSshHarness('linux-markers', {
    size: 1,
    host: () => ({ files: { '/opt/app/app.conf': 'version=1\n' } }),
  });
  const host = h.fleet.hosts[0]!;
  const id = await h.base.addTarget(
    {
      name: 'twin-cred',
      username: host.username,
      secret: { kind: 'ssh-key', privateKey: h.fleet.clientKey.privateKey, sudoPassword: host.password },
    },
    {
      name: 'twin',
      address: host.address,
      os: 'linux',
      services: [{ protocol: 'ssh', port: host.port, credential: 'twin-cred' }],
    },
  );
  twin = { id, name: 'twin' };
}, 180_000);

afterAll(async () => {
  await h?.close();
});

const onHost = async (script: string) => (await h.fleet.exec(0, script)).stdout.trim();
/** The attempt Temporal would run after a crash: same input, a higher attempt number. */
const attempt = (n: number) => new MockActivityEnvironment({ attempt: n });
const NOT_AGAIN = /^already done by attempt 1 at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ; not run again \(run marker \S+\)\n$/;

describe('run markers over SSH', () => {
  it('runs a command once per job, step and target: a retry reports the first exit code without running it', async () => {
    const append = {
      op: 'script',
      shell: 'sh',
      script: 'echo applied >> /tmp/changes; echo appended; exit 4',
    } as const;
    const first = await h.run(0, append, { stepId: 'append' });
    expect(first).toMatchObject({ exitCode: 4, stdout: 'appended\n' });
    const retry = await h.run(0, append, { stepId: 'append', env: attempt(2) });
    expect(retry.exitCode).toBe(4);
    expect(retry.stdout).toMatch(NOT_AGAIN);
    expect(await onHost('cat /tmp/changes')).toBe('applied');
    const marker = await onHost(`cat "$HOME/.local/state/opsconductor/runs/${h.jobId}/append/${h.targetIds[0]}"`);
    expect(marker).toMatch(/^exit=4\nat=\S+Z\nattempt=1$/);

    // Another inventory target on the same host, and another step (a compensation), run anew.
    expect((await h.run(twin, append, { stepId: 'append' })).stdout).toBe('appended\n');
    expect((await h.run(0, append, { stepId: 'append.rollback' })).stdout).toBe('appended\n');
    expect(await onHost('cat /tmp/changes')).toBe('applied\napplied\napplied');
  });

  it('copies a file with backup once under sudo: the retry reports the same facts and leaves file and backup alone', async () => {
    const sha256 = await uploadArtifact(h.orchestrator.apiUrl, h.admin.token, 'app-v2.conf', 'version=2\n');
    const copy = {
      op: 'file-copy',
      source: 'app-v2.conf',
      sha256,
      destination: '/opt/app/app.conf',
      mode: '0640',
    } as const;
    const first = await h.run(0, copy, { stepId: 'copy', become: true });
    expect(first.exitCode).toBe(0);
    const backup = first.facts?.backup ?? '';
    expect(backup).toContain('/copy/opt/app/app.conf');
    const inode = await onHost('stat -c %i /opt/app/app.conf');

    // Between the attempts a new version was uploaded under the name (the retry still pins the first);
    // a re-run would install the file again and would be visible.
    await uploadArtifact(h.orchestrator.apiUrl, h.admin.token, 'app-v2.conf', 'version=3\n');
    const retry = await h.run(0, copy, { stepId: 'copy', become: true, env: attempt(2) });
    expect(retry.exitCode).toBe(0);
    expect(retry.facts).toEqual(first.facts);
    expect(retry.stdout).toMatch(NOT_AGAIN);
    expect(await onHost(`cat /opt/app/app.conf "${backup}"; stat -c %i /opt/app/app.conf`)).toBe(
      `version=2\nversion=1\n${inode}`,
    );
    // With become the marker is root's; the staged upload is gone either way.
    expect(await onHost(`sudo -n cat /var/lib/opsconductor/runs/${h.jobId}/copy/${h.targetIds[0]}`)).toContain(
      'fact backup=',
    );
    expect(await onHost('ls -A /tmp | grep opsc- || true')).toBe('');
  });

  it('updates a package and restarts a service once', async () => {
    const update = { op: 'package', action: 'update', name: 'nginx' } as const;
    const updated = await h.run(0, update, { stepId: 'update', become: true });
    expect(updated.facts).toMatchObject({ previous_version: '1.22.1-9', version: '1.24.0-1' });
    const again = await h.run(0, update, { stepId: 'update', become: true, env: attempt(3) });
    expect(again.facts).toEqual(updated.facts);

    const restart = { op: 'service', action: 'restart', name: 'nginx' } as const;
    expect((await h.run(0, restart, { stepId: 'restart', become: true })).exitCode).toBe(0);
    const pid = await onHost('pgrep -x nginx');
    const retry = await h.run(0, restart, { stepId: 'restart', become: true, env: attempt(2) });
    expect(retry).toMatchObject({ exitCode: 0, facts: { state: 'active' } });
    expect(await onHost('pgrep -x nginx')).toBe(pid);
  });

  it('keeps no marker for reads and waits', async () => {
    expect((await h.run(0, { op: 'service', action: 'status', name: 'nginx' }, { stepId: 'status' })).exitCode).toBe(0);
    expect((await h.run(0, { op: 'disk-usage', path: '/' }, { stepId: 'df', become: true })).exitCode).toBe(0);

    // A command in an argv-exact read-only shape cannot change the host: no marker, and a retry runs
    // it again (its own output, not an earlier attempt's report).
    const release = await onHost('uname -r');
    const kernel = { op: 'run' as const, argv: ['uname', '-r'] };
    expect(await h.run(0, kernel, { stepId: 'kernel' })).toMatchObject({ exitCode: 0, stdout: `${release}\n` });
    expect(await h.run(0, kernel, { stepId: 'kernel', env: attempt(2) })).toMatchObject({ stdout: `${release}\n` });
    const root = await onHost('sudo -n id -un');
    const who = await h.run(0, { op: 'run', argv: ['id', '-un'] }, { stepId: 'who', become: true });
    expect(who.stdout).toBe(`${root}\n`);

    // A command outside the list is a change: it runs once under its marker.
    const touch = { op: 'run' as const, argv: ['touch', '/tmp/touched'] };
    expect((await h.run(0, touch, { stepId: 'touch' })).exitCode).toBe(0);
    expect((await h.run(0, touch, { stepId: 'touch', env: attempt(2) })).stdout).toMatch(NOT_AGAIN);

    const runs = await onHost(
      `ls "$HOME/.local/state/opsconductor/runs/${h.jobId}"; sudo -n ls /var/lib/opsconductor/runs/${h.jobId}`,
    );
    expect(runs.split('\n').sort()).toEqual(['append', 'append.rollback', 'copy', 'restart', 'touch', 'update']);
  });

  it('makes a retry wait for the first attempt still running after its connection died, then report its result', async () => {
    // The script holds until the test lets it go, however slow the machine.
    const slow = {
      op: 'script',
      shell: 'sh',
      script: 'while [ ! -e /tmp/go-slow ]; do sleep 0.1; done; echo slow >> /tmp/slow',
    } as const;
    const first = h.run(0, slow, { stepId: 'slow' });
    await expect.poll(() => onHost("pgrep -f '[s]leep 0.1' || true"), { timeout: 10_000 }).not.toBe('');
    // The executor's connection dies (as with a SIGKILLed executor); the script goes on on the host.
    await h.fleet.killSessions(0);
    expect((await failureOf(first)).type).toBe('ConnectionLost');
    const retrying = h.run(0, slow, { stepId: 'slow', env: attempt(2) });
    let settled = false;
    void retrying.then(
      () => (settled = true),
      () => (settled = true),
    );
    await new Promise((r) => setTimeout(r, 1_500));
    // The first attempt still runs: the retry waits for it.
    expect(settled).toBe(false);
    await onHost('touch /tmp/go-slow');
    const retry = await retrying;
    expect(retry.exitCode).toBe(0);
    expect(retry.stdout).toMatch(NOT_AGAIN);
    expect(await onHost('cat /tmp/slow')).toBe('slow');
  });

  it('attaches a retry to a change still running after its connection died, and reports its exit code and facts', async () => {
    // The host's service manager is busy (its state lock is held) until the test lets it go, so the
    // restart is still running when its connection dies, and prints its facts after that.
    const lock = '/var/lib/opsc-fleet/self/state/.lock';
    await onHost(
      `setsid sh -c 'exec 9>>${lock}; flock 9; while [ ! -e /tmp/go-busy ]; do sleep 0.1; done' </dev/null >/dev/null 2>&1 &`,
    );
    await expect
      .poll(() => onHost(`flock -n ${lock} true && echo free || echo held`), { timeout: 10_000 })
      .toBe('held');
    const before = await onHost('pgrep -x nginx');
    const restart = { op: 'service', action: 'restart', name: 'nginx' } as const;
    const first = h.run(0, restart, { stepId: 'busy-restart', become: true });
    await expect.poll(() => onHost('pgrep -x systemctl || true'), { timeout: 10_000 }).not.toBe('');
    await h.fleet.killSessions(0);
    expect((await failureOf(first)).type).toBe('ConnectionLost');

    const retrying = h.run(0, restart, { stepId: 'busy-restart', become: true, env: attempt(2) });
    // The retry follows the run still going (its live output says so) and starts none of its own.
    const lines = async () =>
      (
        await h.stack.pool.query<{ line: string }>(
          "SELECT line FROM output_lines WHERE job_id = $1 AND step_id = 'busy-restart' AND attempt = 2",
          [h.jobId],
        )
      ).rows.map((r) => r.line);
    const following = 'opsconductor: following the run of attempt 1, still going on this host';
    const followed = await expect
      .poll(lines, { timeout: 20_000 })
      .toContain(following)
      .then(
        () => true,
        () => false,
      );
    const restarts = await onHost('pgrep -xc systemctl || true');
    await onHost('touch /tmp/go-busy');
    const retry = await retrying;
    expect(retry).toMatchObject({ exitCode: 0, facts: { manager: 'systemctl', state: 'active' } });
    expect(followed).toBe(true);
    expect(restarts).toBe('1');
    expect(retry.stdout).toMatch(/(^|\n)already done by attempt 1 at \S+; not run again \(run marker \S+\)\n$/);
    expect(retry.stderr).toMatch(/following the run of attempt 1/);
    const after = await onHost('pgrep -x nginx');
    expect(after).not.toBe('');
    expect(after).not.toBe(before);
    expect(await onHost(`sudo -n cat /var/lib/opsconductor/runs/${h.jobId}/busy-restart/${h.targetIds[0]}`)).toMatch(
      /^exit=0\n[\s\S]*fact state=active/,
    );
  });

  it('runs a change again when the first attempt was stopped before it finished', async () => {
    const env = attempt(1);
    const stopped = h.run(
      0,
      { op: 'script', shell: 'sh', script: 'sleep 30; echo late >> /tmp/late' },
      { stepId: 'stopped', env },
    );
    await expect.poll(() => onHost("pgrep -f '[s]leep 30' || true"), { timeout: 10_000 }).not.toBe('');
    env.cancel();
    await expect(stopped).rejects.toBeInstanceOf(CancelledFailure);
    // The stopped run leaves no raw output on the host (only a marker would stay).
    await expect
      .poll(() => onHost(`ls -A ~/.local/state/opsconductor/runs/${h.jobId}/stopped`), { timeout: 10_000 })
      .not.toMatch(/\.run\b/);
    const retry = await h.run(
      0,
      { op: 'script', shell: 'sh', script: 'echo ran' },
      { stepId: 'stopped', env: attempt(2) },
    );
    expect(retry.stdout).toBe('ran\n');
  });

  it('keeps a staged upload for a runner that starts after the connection dropped during its start', async () => {
    // The host starts runners late: `setsid` waits for a gate the test opens.
    // The host's /usr/local/sbin (first on its PATH) is its own folder on this machine (testkit's FLEET_ROOT).
    const shim = `/var/lib/opsc-fleet/h${h.fleet.hosts[0]!.address.split('.')[3]}/sbin/setsid`;
    writeFileSync(shim, '#!/bin/sh\nwhile [ ! -e /tmp/go-setsid ]; do sleep 0.1; done\nexec /usr/bin/setsid "$@"\n', {
      mode: 0o755,
    });
    try {
      const sha256 = await uploadArtifact(h.orchestrator.apiUrl, h.admin.token, 'late.conf', 'late=1\n');
      const copy = {
        op: 'file-copy',
        source: 'late.conf',
        sha256,
        destination: '/opt/app/late.conf',
        backup: false,
      } as const;
      const first = h.run(0, copy, { stepId: 'late-copy', become: true });
      await expect.poll(() => onHost("pgrep -f '[u]sr/local/sbin/setsid' || true"), { timeout: 10_000 }).not.toBe('');
      // The connection drops before the pid line came: the executor cannot tell whether a runner started.
      await h.fleet.killSessions(0);
      expect((await failureOf(first)).type).toBe('ConnectionLost');
      await onHost('touch /tmp/go-setsid');
      const marker = `/var/lib/opsconductor/runs/${h.jobId}/late-copy/${h.targetIds[0]}`;
      await expect
        .poll(() => onHost(`sudo -n cat ${marker} 2>/dev/null || true`), { timeout: 15_000 })
        .toMatch(/^exit=0\n/);
      expect(await onHost('cat /opt/app/late.conf')).toBe('late=1');
      const retry = await h.run(0, copy, { stepId: 'late-copy', become: true, env: attempt(2) });
      expect(retry.exitCode).toBe(0);
      expect(retry.stdout).toMatch(NOT_AGAIN);
      // The runner removed the staged upload once it had installed it.
      expect(await onHost('ls -A /tmp | grep opsc- || true')).toBe('');
    } finally {
      rmSync(shim, { force: true });
      await onHost('rm -f /tmp/go-setsid');
    }
  });

  it('starts an undo only once the change it undoes, still running after its connection died, has ended', async () => {
    const forward = {
      op: 'script',
      shell: 'sh',
      script:
        'echo forward >> /tmp/undo-order; while [ ! -e /tmp/go-forward ]; do sleep 0.1; done; echo forward-end >> /tmp/undo-order',
    } as const;
    const first = h.run(0, forward, { stepId: 'undone' });
    await expect.poll(() => onHost('cat /tmp/undo-order 2>/dev/null || true'), { timeout: 10_000 }).toBe('forward');
    await h.fleet.killSessions(0);
    expect((await failureOf(first)).type).toBe('ConnectionLost');
    // Its undo has too short a timeout for the forward change: it fails, retryable, and does nothing.
    const undo = { op: 'script', shell: 'sh', script: 'echo undo >> /tmp/undo-order' } as const;
    const early = await failureOf(h.run(0, undo, { stepId: 'undone.rollback', timeoutSeconds: 1 }));
    expect(early).toMatchObject({ type: 'Timeout', nonRetryable: false });
    expect(early.message).toMatch(/the change this undoes still runs/);
    // The next one waits for it, then runs.
    const undoing = h.run(0, undo, { stepId: 'undone.rollback', env: attempt(2) });
    await expect.poll(() => onHost("pgrep -f '^flock -E 75' || true"), { timeout: 10_000 }).not.toBe('');
    expect(await onHost('cat /tmp/undo-order')).toBe('forward');
    await onHost('touch /tmp/go-forward');
    expect((await undoing).exitCode).toBe(0);
    expect(await onHost('cat /tmp/undo-order')).toBe('forward\nforward-end\nundo');
  });

  it('removes markers older than a week when it writes a new one, at most once a day', async () => {
    const runs = '/var/lib/opsconductor/runs';
    const old = `${runs}/job-old/step/${h.targetIds[0]}`;
    await onHost(
      `sudo -n sh -c 'mkdir -p "$(dirname ${old})" && echo exit=0 > ${old} && touch -d "10 days ago" ${old}'`,
    );
    expect(await onHost(`sudo -n ls ${old}`)).toBe(old);
    // Swept today already (the stamp is dated a day ahead): a new marker leaves the folder alone.
    await onHost(`sudo -n touch -d tomorrow ${runs}/.sweep`);
    await h.run(0, { op: 'run', argv: ['true'] }, { stepId: 'cleanup-1', become: true });
    expect(await onHost(`sudo -n ls ${old}`)).toBe(old);
    // A day later, the next marker sweeps.
    await onHost(`sudo -n touch -d "2 days ago" ${runs}/.sweep`);
    await h.run(0, { op: 'run', argv: ['true'] }, { stepId: 'cleanup-2', become: true });
    expect(await onHost(`sudo -n ls ${old} 2>&1 || true`)).toMatch(/No such file/);
  });
});
