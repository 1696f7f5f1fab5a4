import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  utimesSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { LinuxOperation, type LinuxOperationInput } from '@opsc/contracts';
import { parseFacts, scriptFor, type ScriptOperation } from './linux-scripts.js';
import {
  changesLinuxTarget,
  FORWARD_STILL_RUNS_EXIT,
  START_UNKNOWN_EXIT,
  stopUnreportedRunScript,
  withRunMarker,
} from './run-marker-script.js';
import { installScript, stagingRemoval } from './transfer.js';
import { runMarkerKey } from '../run-marker.js';

const context = (stepId = 'step-1', targetId = 'target-1') => ({
  jobId: 'job-1',
  stepId,
  target: { id: targetId, name: 'web-01' },
  timeoutSeconds: 30,
});

/** A changing operation's script under its run marker, for the login user (no become). */
const wrapped = (
  op: LinuxOperationInput,
  opts: {
    stepId?: string;
    targetId?: string;
    attempt?: number;
    rerun?: number;
    timeoutSeconds?: number;
    startWaitSeconds?: number;
  } = {},
) => {
  const nonce = Math.random().toString(16).slice(2, 10).padEnd(8, '0');
  const operation = LinuxOperation.parse(op) as ScriptOperation;
  const key = runMarkerKey(
    { ...context(opts.stepId, opts.targetId), ...(opts.rerun && { rerun: opts.rerun }) },
    opts.attempt ?? 1,
  );
  const remote = withRunMarker(scriptFor(operation, { jobId: key.jobId, stepId: key.stepId, nonce }), key, {
    nonce,
    become: false,
    timeoutSeconds: opts.timeoutSeconds ?? 30,
    ...(opts.startWaitSeconds !== undefined && { startWaitSeconds: opts.startWaitSeconds }),
  });
  return { remote, nonce };
};

/** A folder of PATH shims in front of the real tools (a slow `setsid`, a `tail` without --pid). */
const shims = (home: string, tools: Record<string, string>): string => {
  const dir = path.join(home, 'shims');
  mkdirSync(dir, { recursive: true });
  for (const [name, script] of Object.entries(tools)) {
    writeFileSync(path.join(dir, name), `#!/bin/sh\n${script}\n`);
    chmodSync(path.join(dir, name), 0o755);
  }
  return `${dir}:${process.env.PATH}`;
};
const real = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();

/** Starts a script with a real sh in the background; resolves with its exit code and output. */
const start = (home: string, script: string, PATH = process.env.PATH) => {
  const child = spawn('sh', ['-c', script], { env: { PATH, HOME: home } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout: output(stdout), stderr })),
  );
  return { child, done };
};
const runFolder = (home: string, step = 'step-1', target = 'target-1') =>
  path.join(home, '.local/state/opsconductor/runs/job-1', step, `.${target}.run`);
const changes = (home: string) =>
  existsSync(path.join(home, 'changes')) ? readFileSync(path.join(home, 'changes'), 'utf8') : '';
const waiting = (pattern: string) => spawnSync('pgrep', ['-f', '--', pattern]).status === 0;

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
    const op = {
      op: 'script',
      shell: 'sh',
      script: 'echo applied >> "$HOME/changes"; echo working; echo oops >&2; exit 3',
    } as const;
    const first = exec(home, wrapped(op).remote.script);
    expect(first).toMatchObject({ code: 3, stdout: 'working\n', stderr: 'oops\n' });
    const second = exec(home, wrapped(op, { attempt: 2 }).remote.script);
    expect(second.code).toBe(3);
    expect(second.stdout).toMatch(
      /^already done by attempt 1 at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ; not run again \(run marker .*\/job-1\/step-1\/target-1\)\n$/,
    );
    expect(readFileSync(path.join(home, 'changes'), 'utf8')).toBe('applied\n');
    const marker = readFileSync(path.join(home, '.local/state/opsconductor/runs/job-1/step-1/target-1'), 'utf8');
    expect(marker).toMatch(/^exit=3\nat=.*Z\nattempt=1\n$/);

    // Another target on the same host, or another step (a compensation), runs anew.
    expect(exec(home, wrapped(op, { targetId: 'target-2' }).remote.script).code).toBe(3);
    expect(exec(home, wrapped(op, { stepId: 'step-1.rollback' }).remote.script).code).toBe(3);
    expect(readFileSync(path.join(home, 'changes'), 'utf8')).toBe('applied\n'.repeat(3));
  });

  it("keeps the facts in the marker and reports them again under the new attempt's nonce", () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'opsc-marker-'));
    mkdirSync(path.join(home, 'etc'));
    writeFileSync(path.join(home, 'etc', 'app.conf'), 'x=1\n');
    const op: LinuxOperationInput = {
      op: 'config-backup',
      paths: [path.join(home, 'etc')],
      archive: path.join(home, 'backup.tar.gz'),
    };
    const first = wrapped(op);
    const one = parseFacts(exec(home, first.remote.script).stdout, first.nonce);
    expect(one.facts).toMatchObject({
      archive: path.join(home, 'backup.tar.gz'),
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    writeFileSync(path.join(home, 'etc', 'app.conf'), 'x=2\n');
    const second = wrapped(op, { attempt: 2 });
    const two = parseFacts(exec(home, second.remote.script).stdout, second.nonce);
    expect(two.facts).toEqual(one.facts);
    expect(two.stdout).toMatch(/^already done by attempt 1 /);
  });

  it('makes a retry wait for an attempt still running on the host, then report its result', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'opsc-marker-'));
    const op = {
      op: 'script',
      shell: 'sh',
      script: 'echo start >> "$HOME/changes"; sleep 1; echo end >> "$HOME/changes"',
    } as const;
    const start = (attempt: number) =>
      new Promise<{ code: number | null; stdout: string }>((resolve) => {
        const child = spawn('sh', ['-c', wrapped(op, { attempt }).remote.script], {
          env: { PATH: process.env.PATH, HOME: home },
        });
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
    const op = {
      op: 'script',
      shell: 'sh',
      script:
        'echo applied >> "$HOME/changes"; while [ ! -e "$HOME/go" ]; do sleep 0.05; done; echo after; echo late >&2; exit 5',
    } as const;
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
    for (const dir of [path.join(runs, 'job-old', 'step'), path.join(runs, 'job-old')])
      utimesSync(dir, tenDaysAgo, tenDaysAgo);
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
      // A listed read-only program with another argument, or by another path, is a change.
      { op: 'run', argv: ['hostname', 'web-2'] },
      { op: 'run', argv: ['date', '-s', '2020-01-01'] },
      { op: 'run', argv: ['/tmp/x/uptime'] },
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
        const script = withRunMarker(
          scriptFor(LinuxOperation.parse(op) as ScriptOperation, {
            jobId: 'job-1',
            stepId: 'step-1',
            nonce: 'feedc0de',
          }),
          key,
          { nonce: 'feedc0de', become, timeoutSeconds: 30 },
        ).script;
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
      // Commands in an argv-exact read-only shape (the list that spares them an approval).
      { op: 'run', argv: ['uptime'] },
      { op: 'run', argv: ['uname', '-r'] },
      { op: 'run', argv: ['df', '-h'] },
      // Programs that write nothing whatever they are given (a retry reads again): no approval spared.
      { op: 'run', argv: ['sha256sum', '/opt/app/app.bin'] },
      { op: 'run', argv: ['md5sum', '-b', '/opt/app/a', '/opt/app/b'] },
      { op: 'run', argv: ['stat', '-c', '%s %Y', '/opt/app/app.bin'] },
    ];
    for (const op of reads)
      expect(changesLinuxTarget(LinuxOperation.parse(op)), 'argv' in op ? op.argv.join(' ') : op.op).toBe(false);
    // A path to a program is not the program; a program that can write is a change.
    for (const argv of [
      ['/usr/bin/sha256sum', 'x'],
      ['tee', '/opt/app/x'],
      ['sha256sum2', 'x'],
      ['sort', '-o', 'x', 'y'],
    ])
      expect(changesLinuxTarget(LinuxOperation.parse({ op: 'run', argv })), argv.join(' ')).toBe(true);
  });

  it('accepts job, step (with .rollback) and target ids as path segments and refuses anything else', () => {
    expect(runMarkerKey(context('restart.rollback', '6f1c2b1e-0b7a-4c57-9d1e-0d6c8a1e2f3a'), 2)).toMatchObject({
      stepId: 'restart.rollback',
      attempt: 2,
    });
    for (const bad of ['../etc', 'a/b', '.hidden', 'x.', 'a b', "it's", '']) {
      expect(() => runMarkerKey(context(bad), 1), bad).toThrow(/cannot name a run marker/);
      expect(() => runMarkerKey(context('s', bad), 1), bad).toThrow(/cannot name a run marker/);
    }
  });
});

describe('run markers of a step run again (decide retry)', () => {
  it('runs re-run n as a change of its own, and an attempt of re-run n again reports it', () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'opsc-marker-'));
    const op = { op: 'script', shell: 'sh', script: 'echo applied >> "$HOME/changes"; exit 1' } as const;
    expect(exec(home, wrapped(op).remote.script).code).toBe(1);
    // A Temporal retry of the first run reports it; re-run 1 runs the change again.
    expect(exec(home, wrapped(op, { attempt: 2 }).remote.script).stdout).toMatch(/^already done by attempt 1/);
    expect(exec(home, wrapped(op, { rerun: 1 }).remote.script).code).toBe(1);
    expect(changes(home)).toBe('applied\n'.repeat(2));
    // A Temporal retry of re-run 1 reports it; re-run 2 runs again.
    const again = exec(home, wrapped(op, { rerun: 1, attempt: 2 }).remote.script);
    expect(again.stdout).toMatch(/^already done by attempt 1 .*\/job-1\/step-1\.rerun-1\/target-1\)\n$/);
    expect(exec(home, wrapped(op, { rerun: 2 }).remote.script).code).toBe(1);
    expect(changes(home)).toBe('applied\n'.repeat(3));
    expect(() => runMarkerKey({ ...context(), rerun: 0.5 }, 1)).toThrow(/not a re-run number/);
  });

  it('starts an undo only once a re-run of the change it undoes has ended on the target', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'opsc-marker-'));
    const forward = start(
      home,
      wrapped(
        {
          op: 'script',
          shell: 'sh',
          script:
            'echo rerun >> "$HOME/changes"; while [ ! -e "$HOME/go" ]; do sleep 0.05; done; echo rerun-end >> "$HOME/changes"',
        },
        { rerun: 1 },
      ).remote.script,
    );
    await vi.waitFor(() => expect(changes(home)).toBe('rerun\n'), { timeout: 10_000 });
    const undo = start(
      home,
      wrapped({ op: 'script', shell: 'sh', script: 'echo undo >> "$HOME/changes"' }, { stepId: 'step-1.rollback' })
        .remote.script,
    );
    await vi.waitFor(() => expect(waiting(`flock -E 75 -s -w [0-9]+ ${home}/`)).toBe(true), { timeout: 10_000 });
    expect(changes(home)).toBe('rerun\n');
    writeFileSync(path.join(home, 'go'), '');
    expect((await forward.done).code).toBe(0);
    expect((await undo.done).code).toBe(0);
    expect(changes(home)).toBe('rerun\nrerun-end\nundo\n');
  });
});

describe('run markers on Linux, faults', () => {
  it('does not run a change twice when its runner starts after the attempt gave up on it', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'opsc-marker-'));
    // The host is so slow that the runner of attempt 1 starts after its attempt gave up waiting.
    const slow = shims(home, {
      setsid: `while [ ! -e "$HOME/late" ]; do sleep 0.05; done; ${real('setsid')} "$@"; : > "$HOME/late-done"`,
    });
    const op = {
      op: 'script',
      shell: 'sh',
      script: 'echo applied >> "$HOME/changes"; while [ ! -e "$HOME/go" ]; do sleep 0.05; done',
    } as const;
    const first = exec(home, wrapped(op, { startWaitSeconds: 1 }).remote.script.replace(/^/, `PATH=${slow}\n`));
    expect(first.code).toBe(START_UNKNOWN_EXIT);
    expect(first.stderr).toMatch(/did not start within 1s and was given up/);
    const retry = start(home, wrapped(op, { attempt: 2 }).remote.script);
    await vi.waitFor(() => expect(changes(home)).toBe('applied\n'), { timeout: 10_000 });
    // The late runner starts while the retry's run goes on, and waits for the run lock.
    writeFileSync(path.join(home, 'late'), '');
    await vi.waitFor(() => expect(waiting('^flock 8$')).toBe(true), { timeout: 10_000 });
    writeFileSync(path.join(home, 'go'), '');
    expect(await retry.done).toMatchObject({ code: 0, stdout: '' });
    await vi.waitFor(() => expect(existsSync(path.join(home, 'late-done'))).toBe(true), { timeout: 10_000 });
    expect(changes(home)).toBe('applied\n');
    expect(readFileSync(path.join(home, '.local/state/opsconductor/runs/job-1/step-1/target-1'), 'utf8')).toMatch(
      /\nattempt=2\n$/,
    );
  });

  it('starts an undo only once the change it undoes has ended on the target', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'opsc-marker-'));
    const forward = start(
      home,
      wrapped({
        op: 'script',
        shell: 'sh',
        script:
          'echo forward >> "$HOME/changes"; while [ ! -e "$HOME/go" ]; do sleep 0.05; done; echo forward-end >> "$HOME/changes"',
      }).remote.script,
    );
    await vi.waitFor(() => expect(changes(home)).toBe('forward\n'), { timeout: 10_000 });
    const undo = start(
      home,
      wrapped({ op: 'script', shell: 'sh', script: 'echo undo >> "$HOME/changes"' }, { stepId: 'step-1.rollback' })
        .remote.script,
    );
    // The undo waits on the forward run's lock on this host.
    await vi.waitFor(() => expect(waiting(`flock -E 75 -s -w [0-9]+ ${home}/`)).toBe(true), { timeout: 10_000 });
    expect(changes(home)).toBe('forward\n');
    writeFileSync(path.join(home, 'go'), '');
    expect((await forward.done).code).toBe(0);
    expect((await undo.done).code).toBe(0);
    expect(changes(home)).toBe('forward\nforward-end\nundo\n');
  });

  it('fails an undo, retryable, when the change it undoes still runs at the end of its timeout', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'opsc-marker-'));
    const forward = start(
      home,
      wrapped({
        op: 'script',
        shell: 'sh',
        script: 'echo forward >> "$HOME/changes"; while [ ! -e "$HOME/go" ]; do sleep 0.05; done',
      }).remote.script,
    );
    await vi.waitFor(() => expect(changes(home)).toBe('forward\n'), { timeout: 10_000 });
    const undo = exec(
      home,
      wrapped(
        { op: 'script', shell: 'sh', script: 'echo undo >> "$HOME/changes"' },
        { stepId: 'step-1.rollback', timeoutSeconds: 1 },
      ).remote.script,
    );
    expect(undo.code).toBe(FORWARD_STILL_RUNS_EXIT);
    expect(undo.stderr).toMatch(/the change this undoes \(step step-1\) still runs on this host/);
    writeFileSync(path.join(home, 'go'), '');
    expect((await forward.done).code).toBe(0);
    expect(changes(home)).toBe('forward\n');
  });

  it('stops a change whose pid line never came: a runner still to start never runs, a started one is killed', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'opsc-marker-'));
    const key = runMarkerKey(context(), 1);
    const slow = shims(home, {
      setsid: `while [ ! -e "$HOME/late" ]; do sleep 0.05; done; ${real('setsid')} "$@"; : > "$HOME/late-done"`,
    });
    const op = {
      op: 'script',
      shell: 'sh',
      script: 'echo applied >> "$HOME/changes"; sleep 30; echo end >> "$HOME/changes"',
    } as const;
    const first = start(home, wrapped(op).remote.script, slow);
    await vi.waitFor(() => expect(existsSync(path.join(runFolder(home), 'token'))).toBe(true), { timeout: 10_000 });
    expect(exec(home, stopUnreportedRunScript(key, false)).code).toBe(0);
    expect((await first.done).code).toBe(START_UNKNOWN_EXIT);
    writeFileSync(path.join(home, 'late'), '');
    await vi.waitFor(() => expect(existsSync(path.join(home, 'late-done'))).toBe(true), { timeout: 10_000 });
    expect(changes(home)).toBe('');

    // Started, its pid line lost: killed through its run folder, and its folder goes.
    const second = start(home, wrapped(op, { attempt: 2 }).remote.script);
    await vi.waitFor(() => expect(changes(home)).toBe('applied\n'), { timeout: 10_000 });
    expect(exec(home, stopUnreportedRunScript(key, false)).code).toBe(0);
    expect((await second.done).code).not.toBe(0);
    expect(changes(home)).toBe('applied\n');
    expect(existsSync(path.join(home, '.local/state/opsconductor/runs/job-1/step-1/target-1'))).toBe(false);
    expect(existsSync(runFolder(home))).toBe(false);
  });

  it('keeps no raw output on the host once a run was stopped by its timeout', () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'opsc-marker-'));
    const r = exec(
      home,
      wrapped({ op: 'script', shell: 'sh', script: 'echo secret-ish; sleep 10' }, { timeoutSeconds: 1 }).remote.script,
    );
    expect(r.code).toBe(124);
    expect(r.stdout).toBe('secret-ish\n');
    expect(existsSync(runFolder(home))).toBe(false);
  });

  it('follows the output without a tail that knows --pid, and loses none of it', () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'opsc-marker-'));
    const busyboxLike = shims(home, {
      tail: `for a; do case "$a" in --pid*) echo "tail: unrecognized option '$a'" >&2; exit 1;; esac; done; exec ${real('tail')} "$@"`,
    });
    const r = spawnSync(
      'sh',
      ['-c', wrapped({ op: 'script', shell: 'sh', script: 'echo working; echo oops >&2; exit 4' }).remote.script],
      { encoding: 'utf8', env: { PATH: busyboxLike, HOME: home } },
    );
    expect({ code: r.status, stdout: output(r.stdout), stderr: r.stderr }).toEqual({
      code: 4,
      stdout: 'working\n',
      stderr: 'oops\n',
    });
  });

  it("removes a file-copy's staged upload from the runner once the install has ended", () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'opsc-marker-'));
    const stage = path.join(home, 'stage');
    mkdirSync(stage);
    writeFileSync(path.join(stage, 'upload'), 'hello\n');
    const staged = { dir: stage, file: path.join(stage, 'upload') };
    const sha = '5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03';
    const nonce = 'c0ffee00';
    const op = LinuxOperation.parse({
      op: 'file-copy',
      source: 'hello.txt',
      destination: path.join(home, 'dst'),
      backup: false,
    });
    if (op.op !== 'file-copy') throw new Error('not a file-copy');
    const install = installScript(op, staged.file, sha, { jobId: 'job-1', stepId: 'step-1', nonce });
    const remote = withRunMarker({ ...install, cleanup: stagingRemoval(staged) }, runMarkerKey(context(), 1), {
      nonce,
      become: false,
      timeoutSeconds: 30,
    });
    const r = exec(home, remote.script);
    expect(r.code).toBe(0);
    expect(readFileSync(path.join(home, 'dst'), 'utf8')).toBe('hello\n');
    expect(existsSync(stage)).toBe(false);
  });
});
