import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  powershellInvocation,
  readableStderr,
  stagedPathFor,
  stageScriptFor,
  windowsScriptFor,
} from '@opsc/activities/execution';
import { execOnHost } from './host-exec.js';
import { WinHost } from './win-host.js';

// The client's own operation scripts (windowsScriptFor + powershellInvocation) run against a
// simulated host: what each body would do on Windows, facts and exit codes included.
type Operation = Parameters<typeof windowsScriptFor>[0];

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const newHost = async (options: ConstructorParameters<typeof WinHost>[2] = {}): Promise<WinHost> => {
  const dir = await mkdtemp(path.join(tmpdir(), 'opsc-winrm-ops-'));
  dirs.push(dir);
  return new WinHost(
    { name: 'win-03', hostname: 'WIN-03', address: '127.0.0.203', username: 'Administrator' },
    dir,
    options,
  );
};

const exec = async (host: WinHost, script: string, nonce: string, data?: Buffer) => {
  const { command, args, stdin } = powershellInvocation(script);
  const lines = data ? (data.toString('base64').match(/.{1,64}/g) ?? []).map((l) => `${l}\r\n`).join('') : '';
  const result = await execOnHost(host, [command, ...args].join(' '), {
    stdin: Buffer.concat([stdin ?? Buffer.alloc(0), Buffer.from(lines)]),
    utf8: false,
  });
  const facts: Record<string, string> = {};
  const output: string[] = [];
  for (const line of result.stdout.split('\r\n').filter(Boolean)) {
    const fact = new RegExp(`^@@opsc-${nonce} ([a-z0-9]+)=(.*)$`).exec(line);
    if (fact?.[1]) facts[fact[1]] = fact[2] ?? '';
    else output.push(line);
  }
  return { code: result.code, facts, output, stderr: readableStderr(result.stderr), nonce };
};

/** Runs an operation as the executor does; a file-copy first uploads `data` to its staging file, and a failed upload is the result. */
const run = async (
  host: WinHost,
  operation: Operation,
  options: { sha256?: string; data?: Buffer; stepId?: string } = {},
) => {
  const nonce = randomBytes(6).toString('hex');
  const ctx = { jobId: 'job-1', stepId: options.stepId ?? 'step-1', nonce };
  if (operation.op === 'file-copy') {
    const data = options.data ?? Buffer.alloc(0);
    const staged = await exec(
      host,
      stageScriptFor(ctx, { sha256: options.sha256 ?? '', bytes: data.length }).script,
      nonce,
      data,
    );
    if (staged.code !== 0) return staged;
    return exec(
      host,
      windowsScriptFor(operation, ctx, { sha256: options.sha256, staged: stagedPathFor(nonce) }).script,
      nonce,
    );
  }
  return exec(host, windowsScriptFor(operation, ctx, { sha256: options.sha256 }).script, nonce);
};

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('operation scripts on a simulated Windows host', () => {
  let host: WinHost;
  beforeEach(async () => {
    host = await newHost({
      services: [
        {
          name: 'StationCtl',
          displayName: 'Station Controller',
          path: 'C:\\Program Files\\Station\\stationcontroller.exe',
          status: 'Running',
          startDelayMs: 200,
          stopDelayMs: 200,
        },
        { name: 'Hangs', status: 'Stopped', hangOnStart: true, startDelayMs: 50 },
      ],
      processes: ['notepad.exe'],
    });
  });

  it('restarts a service through StopPending and StartPending, taking real time, with a new process', async () => {
    const pidBefore = host.processes().find((p) => p.name === 'stationcontroller.exe')?.pid;
    const started = Date.now();
    const result = await run(host, { op: 'service', action: 'restart', name: 'stationctl', timeoutSeconds: 10 });
    expect(result).toMatchObject({ code: 0, facts: { before: 'Running', state: 'Running' }, stderr: '' });
    expect(result.output).toEqual([
      'Stopping service stationctl...',
      'Service stationctl stopped',
      'Starting service stationctl...',
      'Service stationctl started',
    ]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    const pidAfter = host.processes().find((p) => p.name === 'stationcontroller.exe')?.pid;
    expect(pidAfter).toBeDefined();
    expect(pidAfter).not.toBe(pidBefore);
  });

  it('reports a start that never completes as a timeout (exit 2), and a stop of a starting service as an error record', async () => {
    const hung = await run(host, { op: 'service', action: 'start', name: 'Hangs', timeoutSeconds: 1 });
    expect(hung.code).toBe(2);
    expect(hung.facts).toEqual({ before: 'Stopped', state: 'StartPending' });
    expect(hung.stderr).toBe('Service Hangs did not reach Running within 1s (it is StartPending)\r\n');
    const stop = await run(host, { op: 'service', action: 'stop', name: 'Hangs', timeoutSeconds: 1 });
    expect(stop.code).toBe(1);
    expect(stop.stderr).toContain(
      "Stop-Service : Service 'Hangs (Hangs)' cannot be stopped due to the following error: Cannot stop Hangs service on computer '.'.",
    );
    host.setService('Hangs', { hangOnStart: false });
    expect(await run(host, { op: 'service-wait', name: 'Hangs', state: 'running', timeoutSeconds: 5 })).toMatchObject({
      code: 0,
      facts: { before: 'StartPending', state: 'Running' },
    });
  });

  it('fails on a service that does not exist and reports status without changing it', async () => {
    expect(await run(host, { op: 'service', action: 'status', name: 'nope', timeoutSeconds: 5 })).toMatchObject({
      code: 1,
      stderr: "Cannot find any service with service name 'nope'.\r\n",
    });
    expect(await run(host, { op: 'service', action: 'status', name: 'Spooler', timeoutSeconds: 5 })).toMatchObject({
      code: 0,
      output: ['Service Spooler is Running'],
      facts: { before: 'Running', state: 'Running' },
    });
  });

  it('checks processes by image name, with or without .exe', async () => {
    const running = await run(host, { op: 'process-check', name: 'StationController.exe', expect: 'running' });
    const pid = host.processes().find((p) => p.name === 'stationcontroller.exe')?.pid;
    expect(running).toMatchObject({
      code: 0,
      output: [`stationcontroller pid ${pid}`],
      facts: { running: 'true', count: '1', pids: String(pid) },
    });
    const absent = await run(host, { op: 'process-check', name: 'missing.exe', expect: 'running' });
    expect(absent).toMatchObject({
      code: 1,
      output: ['missing.exe is not running'],
      facts: { running: 'false', count: '0', pids: '' },
    });
    expect((await run(host, { op: 'process-check', name: 'notepad', expect: 'stopped' })).code).toBe(1);
  });

  it('uploads a file over stdin to a staging file, copies it in verified, and backs the replaced file up once per step', async () => {
    const destination = 'C:\\Apps\\Site\\config.json';
    await host.writeFile(destination, 'original');
    const first = randomBytes(100_000);
    const copy = await run(
      host,
      { op: 'file-copy', source: 'a', destination, backup: true },
      { sha256: sha(first), data: first },
    );
    const backupFile = 'C:\\ProgramData\\OpsConductor\\backups\\job-1\\step-1\\config.json';
    expect(copy).toMatchObject({
      code: 0,
      facts: { sha256: sha(first), bytes: '100000', replaced: 'true', backup: backupFile },
      stderr: '',
    });
    expect(await host.readFile('c:\\apps\\site\\CONFIG.JSON')).toEqual(first);
    expect((await host.readFile(backupFile))?.toString()).toBe('original');
    expect(await host.exists(`C:\\Apps\\Site\\.opsc-${copy.nonce}.part`)).toBe(false);

    const second = Buffer.from('second');
    await run(host, { op: 'file-copy', source: 'a', destination, backup: true }, { sha256: sha(second), data: second });
    expect((await host.readFile(backupFile))?.toString()).toBe('original');
    const fresh = await run(
      host,
      { op: 'file-copy', source: 'a', destination: 'C:\\New\\Dir\\x.bin', backup: true },
      { sha256: sha(second), data: second },
    );
    expect(fresh.facts).toMatchObject({ replaced: 'false', backup: '' });
  });

  it('refuses a corrupted upload (exit 3), a denied directory (exit 5) and an image in use (exit 1)', async () => {
    const data = Buffer.from('payload');
    const bad = await run(
      host,
      { op: 'file-copy', source: 'a', destination: 'C:\\Data\\f.txt', backup: false },
      { sha256: sha(Buffer.from('other')), data },
    );
    expect(bad.code).toBe(3);
    expect(bad.stderr).toBe(`SHA-256 of the received file is ${sha(data)}, expected ${sha(Buffer.from('other'))}\r\n`);
    expect(await host.exists('C:\\Data\\f.txt')).toBe(false);
    expect(await host.exists(`C:\\Data\\.opsc-${bad.nonce}.part`)).toBe(false);

    host.denyWrite('C:\\Locked');
    await host.writeFile('C:\\Locked\\app.cfg', 'keep');
    const denied = await run(
      host,
      { op: 'file-copy', source: 'a', destination: 'C:\\Locked\\app.cfg', backup: true },
      { sha256: sha(data), data },
    );
    expect(denied.code).toBe(5);
    expect(denied.stderr).toBe(`Access to the path 'C:\\Locked\\.opsc-${denied.nonce}.part' is denied.\r\n`);

    const image = 'C:\\Program Files\\Station\\stationcontroller.exe';
    await host.writeFile(image, 'v1');
    const busy = await run(
      host,
      { op: 'file-copy', source: 'a', destination: image, backup: true },
      { sha256: sha(data), data },
    );
    expect(busy.code).toBe(1);
    expect(busy.stderr).toBe(
      `The process cannot access the file '${image}' because it is being used by another process.\r\n`,
    );
    expect((await host.readFile(image))?.toString()).toBe('v1');
    expect(await host.exists(`C:\\Program Files\\Station\\.opsc-${busy.nonce}.part`)).toBe(false);

    await run(host, { op: 'service', action: 'stop', name: 'StationCtl', timeoutSeconds: 5 });
    expect(
      (await run(host, { op: 'file-copy', source: 'a', destination: image, backup: true }, { sha256: sha(data), data }))
        .code,
    ).toBe(0);
  });

  it('restores from the backup or removes a file that did not exist before', async () => {
    await host.writeFile('C:\\Backups\\app.cfg', 'old');
    await host.writeFile('C:\\App\\app.cfg', 'new');
    expect(
      await run(host, { op: 'file-restore', destination: 'C:\\App\\app.cfg', backup: 'C:\\Backups\\app.cfg' }),
    ).toMatchObject({ code: 0, facts: { restored: 'from-backup' } });
    expect((await host.readFile('C:\\App\\app.cfg'))?.toString()).toBe('old');
    expect(await run(host, { op: 'file-restore', destination: 'C:\\App\\app.cfg', backup: null })).toMatchObject({
      code: 0,
      output: ['removed C:\\App\\app.cfg (there was no file before)'],
    });
    expect(await host.exists('C:\\App\\app.cfg')).toBe(false);
    expect(
      await run(host, { op: 'file-restore', destination: 'C:\\App\\app.cfg', backup: 'C:\\Backups\\gone.cfg' }),
    ).toMatchObject({ code: 1, stderr: 'the backup C:\\Backups\\gone.cfg does not exist\r\n' });
    host.denyWrite('C:\\App');
    expect(
      await run(host, { op: 'file-restore', destination: 'C:\\App\\app.cfg', backup: 'C:\\Backups\\app.cfg' }),
    ).toMatchObject({ code: 5, stderr: "Access to the path 'C:\\App\\app.cfg' is denied.\r\n" });
  });

  it('lists events newest first, filtered by level, provider and age', async () => {
    const log = await newHost({
      events: [
        {
          log: 'System',
          level: 2,
          provider: 'Service Control Manager',
          id: 7031,
          message: 'The Station  service\r\nterminated unexpectedly.',
          minutesAgo: 5,
        },
        {
          log: 'System',
          level: 4,
          provider: 'EventLog',
          id: 6005,
          message: 'The Event log service was started.',
          minutesAgo: 10,
        },
        { log: 'System', level: 2, provider: 'Disk', id: 11, message: 'Old disk error.', minutesAgo: 600 },
        {
          log: 'Application',
          level: 2,
          provider: 'Application Error',
          id: 1000,
          message: 'Faulting application.',
          minutesAgo: 1,
        },
      ],
    });
    const errors = await run(log, { op: 'event-log', log: 'System', level: 'error', sinceMinutes: 60, maxEvents: 50 });
    expect(errors.code).toBe(0);
    expect(errors.facts.count).toBe('1');
    expect(errors.output).toHaveLength(1);
    expect(errors.output[0]).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z Error Service Control Manager 7031: The Station service terminated unexpectedly\.$/,
    );
    const all = await run(log, { op: 'event-log', log: 'system', sinceMinutes: 60, maxEvents: 50 });
    expect(all.output.map((l) => l.split(' ')[2])).toEqual(['Service', 'EventLog']);
    expect((await run(log, { op: 'event-log', log: 'System', sinceMinutes: 6000, maxEvents: 1 })).facts.count).toBe(
      '1',
    );
    expect(await run(log, { op: 'event-log', log: 'Nonexistent', sinceMinutes: 60, maxEvents: 5 })).toMatchObject({
      code: 1,
      stderr: 'There is not an event log on the localhost computer that matches "Nonexistent".\r\n',
    });
    expect(
      (await run(log, { op: 'event-log', log: 'System', provider: 'MsiInstaller', sinceMinutes: 60, maxEvents: 5 }))
        .facts.count,
    ).toBe('0');
  });

  it('runs a program with its arguments, and reports one PowerShell cannot find', async () => {
    expect(await run(host, { op: 'command', program: 'C:\\Windows\\System32\\whoami.exe', args: [] })).toMatchObject({
      code: 0,
      output: ['win-03\\administrator'],
    });
    expect(await run(host, { op: 'command', program: 'cmd', args: ['/c', 'echo', 'a b'] })).toMatchObject({
      code: 0,
      output: ['"a b"'],
    });
    const missing = await run(host, { op: 'command', program: 'frob', args: ['x'] });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("frob : The term 'frob' is not recognized as the name of a cmdlet");
  });
});
