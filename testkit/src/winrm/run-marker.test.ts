import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  powershellInvocation,
  powershellScriptFor,
  readableStderr,
  stagedPathFor,
  stageScriptFor,
  windowsScriptFor,
} from '@opsc/activities/execution';
import { execOnHost } from './host-exec.js';
import { holdLockFile } from './op-run-marker.js';
import { TERMINATED_EXIT_CODE } from './ps-context.js';
import { ShellCommand } from './shells.js';
import { WinHost } from './win-host.js';

// The client's run marker envelope on a simulated host: the marker is a file there.
type Operation = Parameters<typeof windowsScriptFor>[0] | { op: 'powershell'; script: string };

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const EXE = 'C:\\App\\app.exe';
const markerPath = (step: string, target: string) =>
  `C:\\ProgramData\\OpsConductor\\runs\\job-1\\${step}\\${target}.json`;

const exec = async (host: WinHost, script: string, nonce: string, data?: Buffer) => {
  const { command, args, stdin } = powershellInvocation(script);
  const lines = data ? (data.toString('base64').match(/.{1,64}/g) ?? []).map((l) => `${l}\r\n`).join('') : '';
  const result = await execOnHost(host, [command, ...args].join(' '), {
    stdin: Buffer.concat([stdin ?? Buffer.alloc(0), Buffer.from(lines)]),
  });
  const facts: Record<string, string> = {};
  const output: string[] = [];
  for (const line of result.stdout.split('\r\n').filter(Boolean)) {
    const fact = new RegExp(`^@@opsc-${nonce} ([a-z0-9-]+)=(.*)$`).exec(line);
    if (fact?.[1]) facts[fact[1]] = fact[2] ?? '';
    else output.push(line);
  }
  return { code: result.code, facts, output, stderr: readableStderr(result.stderr) };
};

type RunOptions = { attempt?: number; stepId?: string; targetId?: string; data?: Buffer; leaseSeconds?: number };

/** The script an attempt runs under its marker; a file-copy's data is uploaded to its staging file first. */
const scriptFor = async (host: WinHost, operation: Operation, nonce: string, options: RunOptions) => {
  const stepId = options.stepId ?? 'step-1';
  const ctx = {
    jobId: 'job-1',
    stepId,
    nonce,
    marker: { jobId: 'job-1', stepId, targetId: options.targetId ?? 't-1', attempt: options.attempt ?? 1 },
    ...(options.leaseSeconds && { leaseSeconds: options.leaseSeconds }),
  };
  if (operation.op === 'powershell') return powershellScriptFor(operation, ctx).script;
  if (operation.op !== 'file-copy') return windowsScriptFor(operation, ctx).script;
  const data = options.data ?? Buffer.alloc(0);
  const sha256 = createHash('sha256').update(data).digest('hex');
  expect((await exec(host, stageScriptFor(ctx, { sha256, bytes: data.length }).script, nonce, data)).code).toBe(0);
  return windowsScriptFor(operation, ctx, { sha256, staged: stagedPathFor(nonce) }).script;
};

const run = async (host: WinHost, operation: Operation, options: RunOptions = {}) => {
  const nonce = randomBytes(6).toString('hex');
  return exec(host, await scriptFor(host, operation, nonce, options), nonce);
};

const NOT_AGAIN =
  /^already done by attempt 1 at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ; not run again \(run marker C:\\ProgramData\\OpsConductor\\runs\\job-1\\.+\.json\)$/;

describe('run markers on a simulated Windows host', () => {
  let host: WinHost;
  beforeEach(async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'opsc-winrm-marker-'));
    dirs.push(dir);
    host = new WinHost(
      { name: 'win-04', hostname: 'WIN-04', address: '127.0.0.204', username: 'Administrator' },
      dir,
      {},
    );
    await host.writeFile(EXE, 'v1');
  });

  it('copies a file once: the retry reports the same facts, keeps file and backup, and removes its own staged upload', async () => {
    const copy = { op: 'file-copy', source: 'app.exe', destination: EXE, backup: true } as const;
    const first = await run(host, copy, { data: Buffer.from('v2') });
    expect(first).toMatchObject({
      code: 0,
      facts: { replaced: 'true', backup: 'C:\\ProgramData\\OpsConductor\\backups\\job-1\\step-1\\app.exe' },
    });
    const retry = await run(host, copy, { data: Buffer.from('v3'), attempt: 2 });
    expect(retry.code).toBe(0);
    expect(retry.facts).toEqual(first.facts);
    expect(retry.output).toEqual([expect.stringMatching(NOT_AGAIN)]);
    expect((await host.readFile(EXE))?.toString()).toBe('v2');
    expect((await host.readFile(first.facts.backup ?? ''))?.toString()).toBe('v1');
    const marker = JSON.parse((await host.readFile(markerPath('step-1', 't-1')))?.toString() ?? '{}');
    expect(marker).toEqual({ exitCode: 0, at: expect.stringMatching(/Z$/), attempt: 1, facts: first.facts });
    expect(await host.files.list('C:\\ProgramData\\OpsConductor\\staging')).toEqual([]);
  });

  it('runs an operator script once, with its exit code, and anew for another target or step', async () => {
    const script = { op: 'powershell', script: 'Write-Output "ran"\nexit 3' } as const;
    expect(await run(host, script)).toMatchObject({ code: 3, output: ['ran'] });
    const retry = await run(host, script, { attempt: 2 });
    expect(retry.code).toBe(3);
    expect(retry.output).toEqual([expect.stringMatching(NOT_AGAIN)]);
    expect(await run(host, script, { targetId: 't-2' })).toMatchObject({ code: 3, output: ['ran'] });
    expect(await run(host, script, { stepId: 'step-1.rollback' })).toMatchObject({ code: 3, output: ['ran'] });
    // A script that falls off its end: 0 when its last statement succeeded.
    expect((await run(host, { op: 'powershell', script: 'Write-Output ok' }, { stepId: 's2' })).code).toBe(0);
    expect(JSON.parse((await host.readFile(markerPath('s2', 't-1')))?.toString() ?? '{}')).toMatchObject({
      exitCode: 0,
      facts: {},
    });
  });

  /** The lease in the target's lock file once an attempt holds it: owner pid, start time and deadline (Unix ms). */
  const leaseHeld = async (stepId: string, attempt: number) => {
    const lockPath = `C:\\ProgramData\\OpsConductor\\runs\\job-1\\${stepId}\\.t-1.lock`;
    for (const until = Date.now() + 10_000; Date.now() < until; await new Promise((r) => setTimeout(r, 10))) {
      const text = (await host.readFile(lockPath))?.toString('utf8');
      const lease = text
        ? (JSON.parse(text) as { pid: number; started: number; deadline: number; attempt: number })
        : null;
      if (lease?.attempt === attempt && host.process(lease.pid)) return lease;
    }
    throw new Error(`attempt ${attempt} never held the lease`);
  };
  const markerOf = async (stepId: string) =>
    JSON.parse((await host.readFile(markerPath(stepId, 't-1')))?.toString() ?? 'null') as { attempt: number } | null;

  it('has a retry wait for an attempt still running on the host, within its lease', async () => {
    const slow = { op: 'powershell', script: 'Start-Sleep -Milliseconds 800\nWrite-Output "slow done"' } as const;
    const first = run(host, slow, { leaseSeconds: 120 });
    const lease = await leaseHeld('step-1', 1);
    const owner = host.process(lease.pid);
    expect(owner).toMatchObject({ name: 'powershell.exe' });
    expect(lease.started).toBe(owner?.started?.getTime());
    expect(lease.deadline).toBeGreaterThan(Date.now() + 110_000);
    const [a, b] = await Promise.all([first, run(host, slow, { attempt: 2 })]);
    expect(a.output).toEqual(['slow done']);
    expect(b.output).toEqual([expect.stringMatching(NOT_AGAIN)]);
    expect(host.process(lease.pid)).toBeUndefined();
  });

  it('takes over a lease whose owner is gone: a stale lease file, or a process that ended', async () => {
    const slow = { op: 'powershell', script: 'Start-Sleep -Seconds 600\nWrite-Output "slow done"' } as const;
    const quick = { op: 'powershell', script: 'Write-Output "changed"' } as const;

    // A lease left in the file by a process that no longer exists holds nothing.
    await host.writeFile(
      'C:\\ProgramData\\OpsConductor\\runs\\job-1\\stale\\.t-1.lock',
      JSON.stringify({ pid: 99_996, started: 1, deadline: Date.now() + 3_600_000, attempt: 1 }),
    );
    const started = Date.now();
    expect(await run(host, quick, { stepId: 'stale', attempt: 2 })).toMatchObject({ code: 0, output: ['changed'] });
    expect(Date.now() - started).toBeLessThan(500);

    // The owner's process ends mid-change (killed, or its shell deleted): no marker, so the retry makes the change.
    const ended = run(host, slow, { stepId: 'ended' });
    host.killProcess((await leaseHeld('ended', 1)).pid);
    expect((await ended).code).toBe(TERMINATED_EXIT_CODE);
    expect(await markerOf('ended')).toBeNull();
    expect(await run(host, quick, { stepId: 'ended', attempt: 2 })).toMatchObject({ code: 0, output: ['changed'] });
    expect(await markerOf('ended')).toMatchObject({ attempt: 2 });
  });

  it('stops an owner past its lease with the programs it started, and reports the change as maybe half-made instead of making it again', async () => {
    // The owner runs a native program (an installer, robocopy): a process of its own, which Stop-Process on PowerShell would leave running.
    const installer = { op: 'command' as const, program: 'waitfor', args: ['/t', '600', 'opsc-never'] };
    const quick = { op: 'powershell', script: 'Write-Output "changed"' } as const;
    const orphan = run(host, installer, { stepId: 'expired', leaseSeconds: 1 });
    const lease = await leaseHeld('expired', 1);
    let child: number | undefined;
    for (const until = Date.now() + 5_000; !child && Date.now() < until; await new Promise((r) => setTimeout(r, 10)))
      child = host.descendants(lease.pid)[0]?.pid;
    expect(host.process(child ?? 0)).toMatchObject({ name: 'waitfor.exe', parentPid: lease.pid });

    const started = Date.now();
    const retry = await run(host, quick, { stepId: 'expired', attempt: 2 });
    expect(retry).toMatchObject({ code: 71, output: [], facts: { 'opsc-taken-over': '1' } });
    expect(retry.stderr).toBe(
      `opsconductor: attempt 1 (process ${lease.pid}) holds the run marker past its lease; stopping it and the processes it started\r\n` +
        'opsconductor: attempt 1 was stopped mid-change after its lease ran out; the host may be half-changed, so the change is not run again\r\n',
    );
    expect(Date.now()).toBeGreaterThanOrEqual(lease.deadline);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect((await orphan).code).toBe(TERMINATED_EXIT_CODE);
    expect(host.process(lease.pid)).toBeUndefined();
    expect(host.process(child ?? 0)).toBeUndefined();
    expect(await markerOf('expired')).toMatchObject({ exitCode: 71, attempt: 2, takenOver: 1 });

    // Every later attempt says the same, and still does not make the change.
    const third = await run(host, quick, { stepId: 'expired', attempt: 3 });
    expect(third).toMatchObject({
      code: 71,
      facts: { 'opsc-taken-over': '1' },
      output: [expect.stringMatching(/^already done by attempt 2 at /)],
    });
    expect(third.stderr).toMatch(
      /attempt 1 was stopped mid-change after its lease ran out; the host may be half-changed/,
    );
  });

  it('ends what a command started when its shell command is terminated (WinRS job), but not when only its PowerShell is stopped', async () => {
    const nonce = randomBytes(6).toString('hex');
    const script = windowsScriptFor(
      { op: 'command', program: 'waitfor', args: ['/t', '600', 'opsc-never'] },
      { jobId: 'job-1', stepId: 'job', nonce },
    );
    const { command, args } = powershellInvocation(script.script);
    const signalled = new ShellCommand('SIGNALLED', [command, ...args].join(' '), host, true);
    const childOf = async (pid: number) => {
      for (const until = Date.now() + 5_000; Date.now() < until; await new Promise((r) => setTimeout(r, 10))) {
        const found = host.descendants(pid)[0];
        if (found) return found.pid;
      }
      throw new Error('no child process');
    };
    const pidOf = (name: string) =>
      host
        .processes()
        .filter((p) => p.name === name)
        .map((p) => p.pid);
    const [shellPid] = pidOf('powershell.exe');
    const child = await childOf(shellPid ?? 0);
    signalled.terminate();
    expect(host.process(child)).toBeUndefined();

    const stopped = new ShellCommand('STOPPED', [command, ...args].join(' '), host, true);
    const [stoppedPid] = pidOf('powershell.exe');
    const orphanChild = await childOf(stoppedPid ?? 0);
    host.killProcess(stoppedPid ?? 0);
    expect(stopped.exitCode).toBe(TERMINATED_EXIT_CODE);
    expect(host.process(orphanChild)).toMatchObject({ name: 'waitfor.exe' });
    host.killProcess(orphanChild);
  });

  const LOCAL_USER_ROOT =
    /opsconductor: will not keep run markers in a folder others control: C:\\ProgramData\\OpsConductor is owned by WIN-04\\localuser; only SYSTEM, Administrators and the executing account may own or write it .*a change that a retry could repeat is not made/;

  it('refuses a folder a local user made first: a forged lease stops no process, a planted marker completes no undo, no upload is staged there', async () => {
    const step = 'C:\\ProgramData\\OpsConductor\\runs\\job-1\\step-1.rollback';
    await host.createAsLocalUser(step);
    const victim = host.addProcess('edr-agent.exe');
    const victimStarted = host.process(victim)?.started?.getTime();
    const planter = host.addProcess('planter.exe');
    await host.createAsLocalUser(
      `${step}\\.t-1.lock`,
      JSON.stringify({ pid: victim, started: victimStarted, deadline: 0, attempt: 1 }),
    );
    const close = holdLockFile(host, `${step}\\.t-1.lock`, planter);
    await host.createAsLocalUser(
      `${step}\\t-1.json`,
      JSON.stringify({ exitCode: 0, at: '2026-01-01T00:00:00Z', attempt: 1, facts: {} }),
    );

    const undo = await run(
      host,
      { op: 'powershell', script: 'Write-Output "undone"' },
      { stepId: 'step-1.rollback', attempt: 1 },
    );
    close();
    expect(undo.code).toBe(70);
    expect(undo.output).toEqual([]);
    expect(undo.stderr).toMatch(LOCAL_USER_ROOT);
    expect(host.process(victim)).toMatchObject({ name: 'edr-agent.exe' });

    const nonce = randomBytes(6).toString('hex');
    const data = Buffer.from('secret release');
    const stage = await exec(
      host,
      stageScriptFor({ nonce }, { sha256: createHash('sha256').update(data).digest('hex'), bytes: data.length }).script,
      nonce,
      data,
    );
    expect(stage.code).toBe(70);
    expect(stage.stderr).toMatch(
      /will not stage an upload in a folder others control: C:\\ProgramData\\OpsConductor is owned by WIN-04\\localuser/,
    );
    expect(await host.files.list('C:\\ProgramData\\OpsConductor\\staging')).toEqual([]);
  });

  it("refuses a folder made with ProgramData's inherited access, where Users may create files", async () => {
    await host.openToLocalUsers('C:\\ProgramData\\OpsConductor');
    const refused = await run(host, { op: 'powershell', script: 'Write-Output "changed"' });
    expect(refused).toMatchObject({ code: 70, output: [] });
    expect(refused.stderr).toMatch(
      /a folder others control: BUILTIN\\Users may write to C:\\ProgramData\\OpsConductor;/,
    );
    expect(await host.exists(markerPath('step-1', 't-1'))).toBe(false);
  });

  it('never acts on a lease or marker another account owns, even in a private folder', async () => {
    // The folders are this account's (made by a first run); the files in the step folder are planted.
    expect((await run(host, { op: 'powershell', script: 'Write-Output ok' }, { targetId: 't-0' })).code).toBe(0);
    const step = 'C:\\ProgramData\\OpsConductor\\runs\\job-1\\step-1';
    const victim = host.addProcess('edr-agent.exe');
    const planter = host.addProcess('planter.exe');
    await host.createAsLocalUser(
      `${step}\\.t-1.lock`,
      JSON.stringify({ pid: victim, started: host.process(victim)?.started?.getTime(), deadline: 0, attempt: 1 }),
    );
    const close = holdLockFile(host, `${step}\\.t-1.lock`, planter);
    const forged = await run(host, { op: 'powershell', script: 'Write-Output "changed"' });
    close();
    expect(forged).toMatchObject({ code: 70, output: [] });
    expect(forged.stderr).toMatch(
      /the lock file C:\\ProgramData\\OpsConductor\\runs\\job-1\\step-1\\\.t-1\.lock belongs to WIN-04\\localuser, not to SYSTEM, Administrators or this account, so it is not trusted/,
    );
    expect(host.process(victim)).toMatchObject({ name: 'edr-agent.exe' });

    await host.files.remove(`${step}\\.t-1.lock`);
    await host.createAsLocalUser(
      `${step}\\t-1.json`,
      JSON.stringify({ exitCode: 0, at: '2026-01-01T00:00:00Z', attempt: 1, facts: {} }),
    );
    const planted = await run(host, { op: 'powershell', script: 'Write-Output "changed"' }, { attempt: 2 });
    expect(planted).toMatchObject({ code: 70, output: [] });
    expect(planted.stderr).toMatch(
      /the run marker C:\\ProgramData\\OpsConductor\\runs\\job-1\\step-1\\t-1\.json belongs to WIN-04\\localuser/,
    );
  });

  it('finishes a copy whose client is gone: the command under the marker never waits for stdin', async () => {
    const copy = { op: 'file-copy', source: 'app.exe', destination: EXE, backup: true } as const;
    const nonce = randomBytes(6).toString('hex');
    const { command, args, stdin } = powershellInvocation(
      await scriptFor(host, copy, nonce, { data: Buffer.from('v2') }),
    );
    // The client sent the script and vanished: stdin never ends.
    const orphan = new ShellCommand('ORPHAN', [command, ...args].join(' '), host, true);
    if (stdin) orphan.stdin.push(stdin, false);
    expect(await orphan.waitFor(() => orphan.done, 10_000)).toBe(true);
    expect(orphan.exitCode).toBe(0);
    expect((await host.readFile(EXE))?.toString()).toBe('v2');
    expect(await markerOf('step-1')).toMatchObject({ exitCode: 0, attempt: 1 });
    expect(await host.files.list('C:\\ProgramData\\OpsConductor\\staging')).toEqual([]);
  });

  it('keeps no marker for reads, refuses to run a change it cannot protect, and prunes week-old markers', async () => {
    expect((await run(host, { op: 'process-check', name: 'app.exe' }, { stepId: 'check' })).code).toBe(0);
    expect(await host.exists('C:\\ProgramData\\OpsConductor\\runs\\job-1\\check')).toBe(false);

    const old = 'C:\\ProgramData\\OpsConductor\\runs\\job-0\\s\\t.json';
    await host.writeFile(old, '{}');
    await host.files.touch(old, new Date(Date.now() - 10 * 86_400_000));
    expect(
      (await run(host, { op: 'command', program: 'ipconfig', args: ['/release'] }, { stepId: 'prune' })).code,
    ).toBe(0);
    expect(await host.exists(old)).toBe(false);
    expect(await host.exists(markerPath('prune', 't-1'))).toBe(true);

    host.denyWrite('C:\\ProgramData\\OpsConductor\\runs');
    const refused = await run(host, { op: 'command', program: 'ipconfig', args: ['/release'] }, { stepId: 'denied' });
    expect(refused.code).toBe(70);
    expect(refused.stderr).toMatch(
      /cannot write a run marker under C:\\ProgramData\\OpsConductor\\runs\\job-1\\denied/,
    );
  });
});
