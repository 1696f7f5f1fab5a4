import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LINUX_CHECK_OPS, LinuxOperation } from '@opsc/contracts';
import { checkScriptBody, type LinuxCheckOperation } from './check-scripts.js';
import { factFn, parseFacts } from './linux-scripts.js';
import { changesLinuxTarget } from './run-marker-script.js';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** Runs a check script here, as the target's shell would, and reads its facts back. */
const run = (op: LinuxCheckOperation, artifactSha?: string) => {
  const r = spawnSync('sh', ['-c', `${factFn('n0nce')}\n${checkScriptBody(op, artifactSha)}`], { encoding: 'utf8' });
  return { code: r.status, stderr: r.stderr, ...parseFacts(r.stdout, 'n0nce') };
};

/** Every file under a folder with its content and mtime: what "nothing changed" means here. */
const snapshot = (dir: string): string =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .sort()
    .map((f) => {
      const p = path.join(dir, f);
      const s = statSync(p);
      return `${f}:${s.mtimeMs}:${s.isFile() ? readFileSync(p, 'utf8') : 'dir'}`;
    })
    .join('\n');

const examples: LinuxCheckOperation[] = [
  { op: 'service-check', action: 'stop', name: 'nginx' },
  { op: 'package-check', action: 'install', name: 'nginx', version: '1.2' },
  { op: 'file-check', source: 'a', destination: '/opt/a', backup: true },
  { op: 'file-restore-check', destination: '/opt/a', backup: '/var/backups/a' },
  { op: 'config-backup-check', paths: ['/etc/nginx'] },
  { op: 'config-restore-check', archive: '/var/backups/x.tar.gz' },
];

describe('Linux check scripts', () => {
  it('cover every check operation, run no run marker, and hold no command that writes', () => {
    expect(new Set(examples.map((o) => o.op))).toEqual(LINUX_CHECK_OPS);
    for (const op of examples) {
      expect(changesLinuxTarget(LinuxOperation.parse(op))).toBe(false);
      const body = checkScriptBody(op, sha('x'));
      execFileSync('sh', ['-n', '-c', body]);
      expect(body).not.toMatch(
        /systemctl (start|stop|restart|reload|enable|disable)|apt-get +(install|remove|update|upgrade)|(dnf|yum) +(install|upgrade|update|remove)|\b(cp|mv|rm|mkdir|chmod|chown)\b|tar -[a-z]*[cx]|> *[^&/ ]/,
      );
    }
  });

  it("compare a file's SHA-256 with the artifact's and a restore's backup, changing nothing", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'opsc-check-'));
    const dst = path.join(dir, 'app.bin');
    writeFileSync(dst, 'old');
    writeFileSync(path.join(dir, 'backup.bin'), 'older');
    const before = snapshot(dir);
    const other = run({ op: 'file-check', source: 'a', destination: dst, backup: true }, sha('new'));
    expect(other).toMatchObject({
      code: 0,
      facts: {
        would_change: 'yes',
        target_sha256: sha('old'),
        artifact_sha256: sha('new'),
        backup: 'would be created',
      },
    });
    expect(run({ op: 'file-check', source: 'a', destination: dst, backup: true }, sha('old')).facts.would_change).toBe(
      'no',
    );
    const absent = run({ op: 'file-check', source: 'a', destination: `${dst}.new`, backup: true }, sha('new'));
    expect(absent.facts).toMatchObject({ would_change: 'yes', backup: 'none (no file to replace)' });
    const noFolder = run({ op: 'file-check', source: 'a', destination: `${dir}/none/app`, backup: true }, sha('x'));
    expect(noFolder.code).toBe(2);
    expect(noFolder.stderr).toContain('the copy would fail');
    const restore = run({ op: 'file-restore-check', destination: dst, backup: path.join(dir, 'backup.bin') });
    expect(restore.facts).toMatchObject({ would_change: 'yes', backup_sha256: sha('older') });
    expect(run({ op: 'file-restore-check', destination: `${dst}.none`, backup: null }).facts.would_change).toBe('no');
    expect(snapshot(dir)).toBe(before);
  });

  it('say whether a backup would archive what exists, and whether a restore would change the files', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'opsc-check-'));
    const conf = path.join(dir, 'app.conf');
    writeFileSync(conf, 'a=1\n');
    const archive = path.join(dir, 'backup.tar.gz');
    execFileSync('tar', ['-czf', archive, '-C', '/', `.${conf}`]);
    expect(run({ op: 'config-backup-check', paths: [conf] }).facts).toMatchObject({
      would_change: 'yes',
      present: '1',
    });
    expect(run({ op: 'config-backup-check', paths: [conf, `${dir}/gone`] }).code).toBe(2);
    expect(run({ op: 'config-restore-check', archive }).facts).toMatchObject({ would_change: 'no' });
    writeFileSync(conf, 'a=2\n');
    const before = snapshot(dir);
    const differs = run({ op: 'config-restore-check', archive });
    expect(differs.facts.would_change).toBe('yes');
    expect(snapshot(dir)).toBe(before);
    expect(run({ op: 'config-restore-check', archive: `${archive}.none` }).code).toBe(2);
  });
});
