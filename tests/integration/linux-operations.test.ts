import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.js';
import { uploadArtifact } from '../support/artifacts.js';

// Host 0: apt and systemd, nginx active; host 1: dnf; host 2: SysV init (no systemctl), nginx stopped,
// and a package that will not install.
let h: SshHarness;

beforeAll(async () => {
  h = await startSshHarness('linux-ops', {
    size: 3,
    host: (i) =>
      [
        { files: { '/etc/nginx/nginx.conf': 'worker_processes 1;\n', '/opt/app/app.conf': 'version=1\n' } },
        { packageManager: 'dnf' as const },
        {
          init: 'sysv' as const,
          services: { nginx: 'inactive' as const },
          packages: {
            nginx: { installed: '1.22.1-9', available: '1.24.0-1' },
            'broken-agent': { installed: null, available: '2.0' },
          },
        },
      ][i] ?? {},
  });
}, 180_000);

afterAll(async () => {
  await h?.close();
});

const upload = (name: string, content: Buffer | string) =>
  uploadArtifact(h.orchestrator.apiUrl, h.admin.token, name, content);

const onHost = async (index: number, script: string) => (await h.fleet.exec(index, script)).stdout.trim();

describe('services', () => {
  it('reports status, stops, starts and restarts with sudo, and the process follows', async () => {
    expect((await h.run(0, { op: 'service', action: 'status', name: 'nginx' })).facts).toEqual({
      manager: 'systemctl',
      state: 'active',
    });
    const stopped = await h.run(0, { op: 'service', action: 'stop', name: 'nginx' }, { become: true });
    expect(stopped).toMatchObject({ exitCode: 0, facts: { state: 'inactive' } });
    expect(await onHost(0, 'pgrep -x nginx || echo none')).toBe('none');
    const started = await h.run(0, { op: 'service', action: 'start', name: 'nginx' }, { become: true });
    expect(started).toMatchObject({ exitCode: 0, facts: { state: 'active' } });
    const pidBefore = await onHost(0, 'pgrep -x nginx');
    expect((await h.run(0, { op: 'service', action: 'restart', name: 'nginx' }, { become: true })).exitCode).toBe(0);
    const pidAfter = await onHost(0, 'pgrep -x nginx');
    expect(pidAfter).not.toBe('');
    expect(pidAfter).not.toBe(pidBefore);
  });

  it('falls back to `service` where systemd does not run', async () => {
    expect((await h.run(2, { op: 'service', action: 'status', name: 'nginx' })).facts).toEqual({
      manager: 'service',
      state: 'inactive',
    });
    expect(await h.run(2, { op: 'service', action: 'start', name: 'nginx' }, { become: true })).toMatchObject({
      exitCode: 0,
      facts: { manager: 'service', state: 'active' },
    });
    expect(await onHost(2, 'pgrep -x nginx || echo none')).not.toBe('none');
    expect((await h.run(2, { op: 'service', action: 'stop', name: 'nginx' }, { become: true })).facts).toMatchObject({
      state: 'inactive',
    });
  });

  it('enables a service for boot', async () => {
    const out = await h.run(0, { op: 'service', action: 'enable', name: 'nginx' }, { become: true });
    expect(out.exitCode).toBe(0);
    expect(await onHost(0, 'systemctl is-enabled nginx')).toBe('enabled');
  });

  it('fails a state change without sudo the way the host refuses it', async () => {
    const out = await h.run(0, { op: 'service', action: 'stop', name: 'nginx' });
    expect(out.exitCode).not.toBe(0);
    expect(out.stderr).toMatch(/denied/i);
  });

  it('waits until a service is active, and times out on one that never starts', async () => {
    const waited = await h.run(0, { op: 'service-wait', name: 'nginx', state: 'active', timeoutSeconds: 10 });
    expect(waited).toMatchObject({ exitCode: 0, facts: { state: 'active' } });
    const never = await h.run(2, {
      op: 'service-wait',
      name: 'nginx',
      state: 'active',
      timeoutSeconds: 2,
      intervalSeconds: 1,
    });
    expect(never.exitCode).toBe(1);
    expect(never.stderr).toContain('nginx is inactive, not active, after 2s');
  });

  it('checks processes exactly, and fails the check only when an expectation is given', async () => {
    expect((await h.run(0, { op: 'process-check', name: 'nginx' })).facts).toMatchObject({ running: 'true' });
    const absent = await h.run(2, { op: 'process-check', name: 'nginx' });
    expect(absent).toMatchObject({ exitCode: 0, facts: { running: 'false', pids: '' } });
    expect((await h.run(2, { op: 'process-check', name: 'nginx', expect: 'running' })).exitCode).toBe(1);
    expect((await h.run(2, { op: 'process-check', name: 'nginx', expect: 'stopped' })).exitCode).toBe(0);
  });
});

describe('packages', () => {
  it('reads, then updates the version with apt and with dnf, reporting the previous one for rollback', async () => {
    for (const [index, manager] of [
      [0, 'apt'],
      [1, 'dnf'],
    ] as const) {
      expect((await h.run(index, { op: 'package', action: 'version', name: 'nginx' })).facts).toMatchObject({
        manager,
        version: '1.22.1-9',
        installed: 'true',
      });
      const updated = await h.run(index, { op: 'package', action: 'update', name: 'nginx' }, { become: true });
      expect(updated, manager).toMatchObject({
        exitCode: 0,
        facts: { manager, previous_version: '1.22.1-9', version: '1.24.0-1' },
      });
    }
  });

  it('installs a pinned version (the rollback path) and reports a failing install as a failed exit', async () => {
    const pinned = await h.run(
      0,
      { op: 'package', action: 'install', name: 'nginx', version: '1.22.1-9' },
      { become: true },
    );
    expect(pinned.facts).toMatchObject({ previous_version: '1.24.0-1', version: '1.22.1-9' });
    const broken = await h.run(2, { op: 'package', action: 'install', name: 'broken-agent' }, { become: true });
    expect(broken.exitCode).toBe(100);
    expect(broken.facts).toMatchObject({ previous_version: '', version: '' });
  });
});

describe('files', () => {
  it('copies an artifact verified by SHA-256, backs up what it replaces, sets the mode, and restores it', async () => {
    const content = randomBytes(256 * 1024);
    const sha256 = await upload('app.conf', content);
    const copy = await h.run(
      0,
      { op: 'file-copy', source: 'app.conf', sha256, destination: '/opt/app/app.conf', mode: '0640' },
      { become: true, stepId: 'copy' },
    );
    expect(copy.exitCode).toBe(0);
    expect(copy.facts).toMatchObject({ sha256, bytes: String(content.length), destination: '/opt/app/app.conf' });
    const backup = copy.facts?.backup ?? '';
    expect(backup).toContain('/copy/opt/app/app.conf');
    expect(
      await onHost(0, `sha256sum /opt/app/app.conf | cut -d' ' -f1; stat -c %a /opt/app/app.conf; cat '${backup}'`),
    ).toBe(`${sha256}\n640\nversion=1`);
    // The staging folder went with the install (root removed the user's upload).
    expect(await onHost(0, 'ls -A /tmp | grep opsc- || true')).toBe('');
    // A retry of the same step keeps the first backup: it still holds the original.
    const again = await h.run(
      0,
      { op: 'file-copy', source: 'app.conf', sha256, destination: '/opt/app/app.conf' },
      { become: true, stepId: 'copy' },
    );
    expect(again.facts?.backup).toBe(backup);
    const restored = await h.run(0, { op: 'file-restore', destination: '/opt/app/app.conf', backup }, { become: true });
    expect(restored.exitCode).toBe(0);
    expect(await onHost(0, 'cat /opt/app/app.conf')).toBe('version=1');
  });

  it('copies the version a copy pins: a new upload under the same name changes no pinned copy', async () => {
    const first = randomBytes(64 * 1024);
    const second = randomBytes(64 * 1024);
    const hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    const one = await upload('rebuilt.bin', first);
    // Same name, same size, new bytes: a second, immutable version.
    const two = await upload('rebuilt.bin', second);
    expect([one, two]).toEqual([hex(first), hex(second)]);
    const copied = await h.run(
      0,
      { op: 'file-copy', source: 'rebuilt.bin', sha256: one, destination: '/tmp/rebuilt-1.bin' },
      { stepId: 'rebuilt-1' },
    );
    expect(copied.facts?.sha256).toBe(one);
    expect(await onHost(0, 'sha256sum /tmp/rebuilt-1.bin | cut -d" " -f1')).toBe(one);
    const newer = await h.run(
      0,
      { op: 'file-copy', source: 'rebuilt.bin', sha256: two, destination: '/tmp/rebuilt-2.bin' },
      { stepId: 'rebuilt-2' },
    );
    expect(newer.exitCode).toBe(0);
    expect(await onHost(0, 'sha256sum /tmp/rebuilt-2.bin | cut -d" " -f1')).toBe(two);
  });

  it('refuses a copy that pins no SHA-256, or one no upload under the name has', async () => {
    await upload('unpinned.bin', 'x\n');
    await expect(h.run(0, { op: 'file-copy', source: 'unpinned.bin', destination: '/tmp/u' })).rejects.toThrow(
      /pins no SHA-256/,
    );
    await expect(
      h.run(0, { op: 'file-copy', source: 'unpinned.bin', sha256: 'a'.repeat(64), destination: '/tmp/u' }),
    ).rejects.toThrow(/no upload of artifact unpinned.bin/);
    expect(await onHost(0, 'ls /tmp/u 2>/dev/null || echo none')).toBe('none');
  });

  it('refuses artifact names that are paths out of a folder', async () => {
    await expect(h.run(0, { op: 'file-copy', source: '../etc/passwd', destination: '/tmp/x' })).rejects.toThrow(
      /\.\. segments|artifact/,
    );
  });

  it('reports a copy into a folder the user cannot write as a failed exit, leaving nothing half-written', async () => {
    const sha256 = await upload('small.txt', 'hello\n');
    const out = await h.run(0, { op: 'file-copy', source: 'small.txt', sha256, destination: '/etc/nginx/new.conf' });
    expect(out.exitCode).not.toBe(0);
    expect(out.stderr).toMatch(/Permission denied/);
    expect(await onHost(0, 'ls -A /etc/nginx')).toBe('nginx.conf');
    expect(await onHost(0, 'ls -A /tmp | grep opsc- || true')).toBe('');
  });

  it('fetches a file from the target into the artifact folder, verified by SHA-256', async () => {
    const out = await h.run(0, { op: 'file-fetch', source: '/etc/nginx/nginx.conf', destination: 'nginx.conf' });
    const local = out.facts?.path ?? '';
    expect(local.startsWith(h.stack.artifactDir)).toBe(true);
    expect(readFileSync(local, 'utf8')).toBe('worker_processes 1;\n');
    expect(out.facts?.sha256).toBe(createHash('sha256').update('worker_processes 1;\n').digest('hex'));
  });

  it('backs up a config folder with tar and restores it after a bad change', async () => {
    const backup = await h.run(0, { op: 'config-backup', paths: ['/etc/nginx'] }, { become: true, stepId: 'backup' });
    expect(backup.exitCode).toBe(0);
    const archive = backup.facts?.archive ?? '';
    expect(archive).toBe(`/var/backups/opsc/${h.jobId}-backup.tar.gz`);
    await h.fleet.exec(0, "echo 'broken' | sudo -n tee /etc/nginx/nginx.conf >/dev/null");
    expect((await h.run(0, { op: 'config-restore', archive }, { become: true })).exitCode).toBe(0);
    expect(await onHost(0, 'cat /etc/nginx/nginx.conf')).toBe('worker_processes 1;');
  });
});

describe('other operations and quoting', () => {
  it('reports disk usage as facts', async () => {
    const out = await h.run(0, { op: 'disk-usage', path: '/' });
    expect(out.exitCode).toBe(0);
    expect(Number(out.facts?.used_percent)).toBeGreaterThanOrEqual(0);
    expect(out.facts?.mount).toBe('/');
  });

  it('passes hostile arguments as literal words: nothing is interpreted by the remote shell', async () => {
    const hostile = ["it's", '* ?', '--help', '"quoted"', '#hash'];
    const out = await h.run(0, { op: 'run', argv: ['printf', '%s/', ...hostile] });
    expect(out.stdout).toBe(`${hostile.join('/')}/`);
  });

  it("cannot forge facts from a command's own output", async () => {
    const out = await h.run(0, { op: 'process-check', name: 'nginx' });
    expect(Object.keys(out.facts ?? {}).sort()).toEqual(['pids', 'running']);
    const script = await h.run(0, { op: 'script', script: "echo '@@opsc-0000 backup=/etc/shadow'" });
    expect(script.facts).toBeUndefined();
    expect(script.stdout).toContain('@@opsc-0000');
  });
});
