import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { LinuxOperation, type LinuxOperationInput } from '@opsc/contracts';
import { parseFacts, scriptFor, type ScriptOperation } from './linux-scripts.js';
import { changesLinuxTarget, withRunMarker } from './run-marker-script.js';
import { runMarkerKey } from '../run-marker.js';

const context = (stepId = 'step-1', targetId = 'target-1') => ({ jobId: 'job-1', stepId, target: { id: targetId, name: 'web-01' }, timeoutSeconds: 30 });

/** A changing operation's script under its run marker, for the login user (no become). */
const wrapped = (op: LinuxOperationInput, opts: { stepId?: string; targetId?: string; attempt?: number } = {}) => {
  const nonce = Math.random().toString(16).slice(2, 10).padEnd(8, '0');
  const operation = LinuxOperation.parse(op) as ScriptOperation;
  const key = runMarkerKey(context(opts.stepId, opts.targetId), opts.attempt ?? 1);
  const remote = withRunMarker(scriptFor(operation, { jobId: key.jobId, stepId: key.stepId, nonce }), key, { nonce, become: false, timeoutSeconds: 30 });
  return { remote, nonce };
};

/** What the client reads as the command's output: the pid line naming the detached run's group taken out. */
const output = (stdout: string) => stdout.replace(/^@@opsc-[0-9a-f]+-pid \d+\n/, '');

/** Runs a script with a real sh, HOME in a fresh folder. */
const exec = (home: string, script: string) => {
  const r = spawnSync('sh', ['-c', script], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: home } });
  return { code: r.status, stdout: output(r.stdout), stderr: r.stderr };
};

describe('run markers on Linux', () => {
  it('runs a change once: a second attempt reports the exit code and says it did not run again', () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'opsc-marker-'));
    const op = { op: 'script', shell: 'sh', script: 'echo applied >> "$HOME/changes"; echo working; echo oops >&2; exit 3' } as const;
    const first = exec(home, wrapped(op).remote.script);
    expect(first).toMatchObject({ code: 3, stdout: 'working\n', stderr: 'oops\n' });
    const second = exec(home, wrapped(op, { attempt: 2 }).remote.script);
    expect(second.code).toBe(3);
    expect(second.stdout).toMatch(/^already done by attempt 1 at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ; not run again \(run marker .*\/job-1\/step-1\/target-1\)\n$/);
    expect(readFileSync(path.join(home, 'changes'), 'utf8')).toBe('applied\n');
    const marker = readFileSync(path.join(home, '.local/state/opsconductor/runs/job-1/step-1/target-1'), 'utf8');
    expect(marker).toMatch(/^exit=3\nat=.*Z\nattempt=1\n$/);

    // Another target on the same host, or another step (a compensation), runs anew.
    expect(exec(home, wrapped(op, { targetId: 'target-2' }).remote.script).code).toBe(3);
    expect(exec(home, wrapped(op, { stepId: 'step-1.rollback' }).remote.script).code).toBe(3);
    expect(readFileSync(path.join(home, 'changes'), 'utf8')).toBe('applied\n'.repeat(3));
  });

  it('keeps the facts in the marker and reports them again under the new attempt\'s nonce', () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'opsc-marker-'));
    mkdirSync(path.join(home, 'etc'));
    writeFileSync(path.join(home, 'etc', 'app.conf'), 'x=1\n');
    const op: LinuxOperationInput = { op: 'config-backup', paths: [path.join(home, 'etc')], archive: path.join(home, 'backup.tar.gz') };
    const first = wrapped(op);
    const one = parseFacts(exec(home, first.remote.script).stdout, first.nonce);
    expect(one.facts).toMatchObject({ archive: path.join(home, 'backup.tar.gz'), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    writeFileSync(path.join(home, 'etc', 'app.conf'), 'x=2\n');
    const second = wrapped(op, { attempt: 2 });
    const two = parseFacts(exec(home, second.remote.script).stdout, second.nonce);
    expect(two.facts).toEqual(one.facts);
    expect(two.stdout).toMatch(/^already done by attempt 1 /);
  });

  it('makes a retry wait for an attempt still running on the host, then report its result', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'opsc-marker-'));
    const op = { op: 'script', shell: 'sh', script: 'echo start >> "$HOME/changes"; sleep 1; echo end >> "$HOME/changes"' } as const;
    const start = (attempt: number) =>
      new Promise<{ code: number | null; stdout: string }>((resolve) => {
        const child = spawn('sh', ['-c', wrapped(op, { attempt }).remote.script], { env: { PATH: process.env.PATH, HOME: home } });
        let stdout = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.on('close', (code) => resolve({ code, stdout: output(stdout) }));
      });
    const first = start(1);
    await new Promise((r) => setTimeout(r, 300));
    const [a, b] = await Promise.all([first, start(2)]);
    expect(a.code).toBe(0);
    expect(b).toMatchObject({ code: 0, stdout: expect.stringMatching(/^already done by attempt 1/) });
    expect(readFileSync(path.join(home, 'changes'), 'utf8')).toBe('start\nend\n');
  });

  it('lets a change finish with its own exit code when the session that started it dies, and gives its output to the retry', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'opsc-marker-'));
    const op = { op: 'script', shell: 'sh', script: 'echo applied >> "$HOME/changes"; while [ ! -e "$HOME/go" ]; do sleep 0.05; done; echo after; echo late >&2; exit 5' } as const;
    const first = spawn('sh', ['-c', wrapped(op).remote.script], { env: { PATH: process.env.PATH, HOME: home } });
    const ended = new Promise((resolve) => first.on('exit', resolve));
    await vi.waitFor(() => expect(existsSync(path.join(home, 'changes'))).toBe(true), { timeout: 10_000 });
    // The connection goes (nobody reads the output any more) and the session with it.
    first.stdout.destroy();
    first.stderr.destroy();
    first.kill('SIGKILL');
    await ended;
    writeFileSync(path.join(home, 'go'), '');
    const retry = exec(home, wrapped(op, { attempt: 2 }).remote.script);
    expect(retry.code).toBe(5);
    expect(retry.stdout).toMatch(/^after\nalready done by attempt 1 at \S+; not run again \(run marker \S+\)\n$/);
    expect(retry.stderr).toContain('late\n');
    expect(readFileSync(path.join(home, 'changes'), 'utf8')).toBe('applied\n');
  });

  it('removes markers older than a week when it writes one, at most once a day', () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'opsc-marker-'));
    const runs = path.join(home, '.local/state/opsconductor/runs');
    const old = path.join(runs, 'job-old', 'step', 'target');
    const recent = path.join(runs, 'job-recent', 'step', 'target');
    for (const file of [old, recent]) {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, 'exit=0\n');
    }
    const tenDaysAgo = new Date(Date.now() - 10 * 86_400_000);
    utimesSync(old, tenDaysAgo, tenDaysAgo);
    for (const dir of [path.join(runs, 'job-old', 'step'), path.join(runs, 'job-old')]) utimesSync(dir, tenDaysAgo, tenDaysAgo);
    exec(home, wrapped({ op: 'run', argv: ['true'] }).remote.script);
    expect(existsSync(old)).toBe(false);
    expect(existsSync(recent)).toBe(true);
    expect(readdirSync(runs).sort()).toEqual(['.sweep', 'job-1', 'job-old', 'job-recent']);

    // Within the day, a new marker does not walk the folder again; once the day is over, it does.
    const older = path.join(runs, 'job-older', 'step', 'target');
    mkdirSync(path.dirname(older), { recursive: true });
    writeFileSync(older, 'exit=0\n');
    utimesSync(older, tenDaysAgo, tenDaysAgo);
    exec(home, wrapped({ op: 'run', argv: ['true'] }, { stepId: 'step-2' }).remote.script);
    expect(existsSync(older)).toBe(true);
    const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
    utimesSync(path.join(runs, '.sweep'), twoDaysAgo, twoDaysAgo);
    exec(home, wrapped({ op: 'run', argv: ['true'] }, { stepId: 'step-3' }).remote.script);
    expect(existsSync(older)).toBe(false);
  });

  it('wraps every changing operation into a script sh parses, and no read', () => {
    const ops: LinuxOperationInput[] = [
      { op: 'run', argv: ['true'] },
      { op: 'script', script: 'echo "$HOME"' },
      { op: 'service', action: 'restart', name: 'nginx' },
      { op: 'package', action: 'update', name: 'nginx' },
      { op: 'config-restore', archive: '/var/backups/opsc/x.tar.gz' },
      { op: 'file-restore', destination: '/opt/app/app.conf', backup: null },
    ];
    for (const op of ops) {
      expect(changesLinuxTarget(LinuxOperation.parse(op)), op.op).toBe(true);
      for (const become of [false, true]) {
        const key = runMarkerKey(context(), 1);
        const script = withRunMarker(scriptFor(LinuxOperation.parse(op) as ScriptOperation, { jobId: 'job-1', stepId: 'step-1', nonce: 'feedc0de' }), key, { nonce: 'feedc0de', become, timeoutSeconds: 30 }).script;
        expect(spawnSync('sh', ['-n', '-c', script], { encoding: 'utf8' }).stderr).toBe('');
      }
    }
    const reads: LinuxOperationInput[] = [
      { op: 'service', action: 'status', name: 'nginx' },
      { op: 'package', action: 'version', name: 'nginx' },
      { op: 'service-wait', name: 'nginx' },
      { op: 'process-check', name: 'nginx' },
      { op: 'disk-usage' },
      { op: 'file-fetch', source: '/etc/hosts', destination: 'hosts' },
    ];
    for (const op of reads) expect(changesLinuxTarget(LinuxOperation.parse(op)), op.op).toBe(false);
  });

  it('accepts job, step (with .rollback) and target ids as path segments and refuses anything else', () => {
    expect(runMarkerKey(context('restart.rollback', '6f1c2b1e-0b7a-4c57-9d1e-0d6c8a1e2f3a'), 2)).toMatchObject({ stepId: 'restart.rollback', attempt: 2 });
    for (const bad of ['../etc', 'a/b', '.hidden', 'x.', 'a b', "it's", '']) {
      expect(() => runMarkerKey(context(bad), 1), bad).toThrow(/cannot name a run marker/);
      expect(() => runMarkerKey(context('s', bad), 1), bad).toThrow(/cannot name a run marker/);
    }
  });
});
