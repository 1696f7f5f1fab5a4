import { createHash, randomBytes } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWinrmHarness, type WinrmHarness } from '../support/winrm-harness.js';
import { uploadArtifact } from '../support/artifacts.js';

// Each Windows operation the planner will use, through the executor's activity, against simulated
// Windows hosts whose state (services, processes, files, ACLs, event logs) the test then inspects.
const EXE = 'C:\\Program Files\\StationController\\stationcontroller.exe';
const OLD_EXE = Buffer.from('stationcontroller 1.0\n');
const DENIED = 2;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let h: WinrmHarness;
/** The new build, uploaded to the artifact store (file-copy's only source) before the tests. */
const newExe = randomBytes(300_000);

beforeAll(async () => {
  h = await startWinrmHarness('windows-operations', {
    size: 3,
    firstOctet: 40,
    host: (i) => ({
      services: [
        {
          name: 'stationcontroller',
          displayName: 'Station Controller',
          image: 'stationcontroller.exe',
          path: EXE,
          status: 'Running',
          startDelayMs: 400,
          stopDelayMs: 400,
        },
        {
          name: 'stuckservice',
          image: 'stuck.exe',
          path: 'C:\\Stuck\\stuck.exe',
          status: 'Stopped',
          hangOnStart: true,
        },
      ],
      files: { [EXE]: OLD_EXE },
      ...(i === DENIED && { denyWrite: ['C:\\Program Files\\StationController'] }),
      events: [
        {
          log: 'System',
          level: 2,
          provider: 'Service Control Manager',
          id: 7031,
          message: 'The Station Controller service terminated unexpectedly.',
          minutesAgo: 10,
        },
        {
          log: 'System',
          level: 3,
          provider: 'Service Control Manager',
          id: 7036,
          message: 'A warning.',
          minutesAgo: 20,
        },
        { log: 'System', level: 2, provider: 'disk', id: 7, message: 'An old bad block.', minutesAgo: 60 * 48 },
        {
          log: 'Application',
          level: 2,
          provider: 'Application Error',
          id: 1000,
          message: 'Faulting application.',
          minutesAgo: 5,
        },
      ],
    }),
  });
  await uploadArtifact(h.orchestrator.apiUrl, h.admin.token, 'stationcontroller/2.0/stationcontroller.exe', newExe);
}, 240_000);

afterAll(async () => {
  await h?.close();
});

const host = (i: number) => h.fleet.host(i);

describe('process check', () => {
  it('reports a running process by image name and fails on a mismatch with expect', async () => {
    const running = await h.run(0, { op: 'process-check', name: 'stationcontroller.exe' });
    expect(running.exitCode).toBe(0);
    expect(running.facts).toMatchObject({ running: 'true', count: '1' });
    const wrong = await h.run(0, { op: 'process-check', name: 'stationcontroller.exe', expect: 'stopped' });
    expect(wrong.exitCode).toBe(1);
    const absent = await h.run(0, { op: 'process-check', name: 'notepad.exe' });
    expect(absent.facts).toMatchObject({ running: 'false', count: '0' });
  });
});

describe('services', () => {
  it('stop, start and restart wait for the state; a service already there is left alone', async () => {
    const stop = await h.run(1, { op: 'service', action: 'stop', name: 'stationcontroller' });
    expect(stop).toMatchObject({ exitCode: 0, facts: { before: 'Running', state: 'Stopped' } });
    expect(host(1).service('stationcontroller')?.status).toBe('Stopped');
    expect(
      host(1)
        .processes()
        .map((p) => p.name),
    ).not.toContain('stationcontroller.exe');
    const again = await h.run(1, { op: 'service', action: 'stop', name: 'stationcontroller' });
    expect(again.stdout).toContain('already stopped');
    const start = await h.run(1, { op: 'service', action: 'start', name: 'stationcontroller' });
    expect(start).toMatchObject({ exitCode: 0, facts: { before: 'Stopped', state: 'Running' } });
    expect(
      host(1)
        .processes()
        .map((p) => p.name),
    ).toContain('stationcontroller.exe');
    const restart = await h.run(1, { op: 'service', action: 'restart', name: 'stationcontroller' });
    expect(restart.facts).toMatchObject({ before: 'Running', state: 'Running' });
    expect(restart.stdout).toMatch(/Stopping[\s\S]*Starting/);
    const status = await h.run(1, { op: 'service', action: 'status', name: 'stationcontroller' });
    expect(status.facts).toMatchObject({ state: 'Running' });
  });

  it('fails with exit code 2 when a service never reaches Running within the timeout', async () => {
    const started = Date.now();
    const out = await h.run(1, { op: 'service', action: 'start', name: 'stuckservice', timeoutSeconds: 3 });
    expect(out.exitCode).toBe(2);
    expect(out.stderr).toMatch(/stuckservice did not reach Running within 3s \(it is StartPending\)/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(3_000);
    const wait = await h.run(1, { op: 'service-wait', name: 'stuckservice', state: 'running', timeoutSeconds: 2 });
    expect(wait.exitCode).toBe(2);
  });

  it('names a service that does not exist', async () => {
    const out = await h.run(1, { op: 'service', action: 'stop', name: 'nosuchservice' });
    expect(out.exitCode).toBe(1);
    expect(out.stderr).toContain("Cannot find any service with service name 'nosuchservice'.");
  });
});

describe('file copy and restore', () => {
  const copy = {
    op: 'file-copy',
    source: 'stationcontroller/2.0/stationcontroller.exe',
    sha256: sha256(newExe),
    destination: EXE,
  } as const;

  it('refuses to overwrite the image of a running process', async () => {
    const out = await h.run(0, copy);
    expect(out.exitCode).toBe(1);
    expect(out.stderr).toMatch(/being used by another process/);
    expect(await host(0).readFile(EXE)).toEqual(OLD_EXE);
  });

  it('copies in chunks, verifies SHA-256 on the target, backs up the original once per step and restores it', async () => {
    await h.run(0, { op: 'service', action: 'stop', name: 'stationcontroller' });
    const out = await h.run(0, copy, { stepId: 'copy' });
    expect(out.exitCode).toBe(0);
    expect(out.facts).toMatchObject({ sha256: sha256(newExe), bytes: String(newExe.length), replaced: 'true' });
    const backup = out.facts?.backup ?? '';
    expect(backup).toBe(`C:\\ProgramData\\OpsConductor\\backups\\${h.jobId}\\copy\\stationcontroller.exe`);
    expect(sha256((await host(0).readFile(EXE)) ?? Buffer.alloc(0))).toBe(sha256(newExe));
    expect(await host(0).readFile(backup)).toEqual(OLD_EXE);

    // A retry of the same step keeps the first backup: the original, not the new file.
    const retry = await h.run(0, copy, { stepId: 'copy' });
    expect(retry.facts?.backup).toBe(backup);
    expect(await host(0).readFile(backup)).toEqual(OLD_EXE);

    const restore = await h.run(0, { op: 'file-restore', destination: EXE, backup });
    expect(restore.facts).toMatchObject({ restored: 'from-backup' });
    expect(await host(0).readFile(EXE)).toEqual(OLD_EXE);
    expect((await h.run(0, { op: 'service', action: 'start', name: 'stationcontroller' })).facts?.state).toBe(
      'Running',
    );
  });

  it('removes a file that did not exist before when restoring without a backup', async () => {
    const fresh = 'C:\\Tools\\new-tool.exe';
    const out = await h.run(0, { ...copy, destination: fresh });
    expect(out.facts).toMatchObject({ replaced: 'false', backup: '' });
    const restore = await h.run(0, { op: 'file-restore', destination: fresh, backup: null });
    expect(restore.facts).toMatchObject({ restored: 'removed' });
    expect(await host(0).exists(fresh)).toBe(false);
  });

  it('fails with access denied (exit 5) where the ACL denies writes, leaving the file as it was', async () => {
    await h.run(DENIED, { op: 'service', action: 'stop', name: 'stationcontroller' });
    const out = await h.run(DENIED, copy);
    expect(out.exitCode).toBe(5);
    expect(out.stderr).toContain("Access to the path 'C:\\Program Files\\StationController\\");
    expect(out.stderr).toContain('is denied.');
    expect(await host(DENIED).readFile(EXE)).toEqual(OLD_EXE);
  });

  it('copies 50 MB verified by hash, reporting progress in heartbeats', async () => {
    const big = randomBytes(50 * 1024 * 1024);
    await uploadArtifact(h.orchestrator.apiUrl, h.admin.token, 'payload-50mb.bin', big);
    const env = new MockActivityEnvironment();
    const sent: number[] = [];
    env.on('heartbeat', (d: { transferredBytes?: number }) => sent.push(d.transferredBytes ?? 0));
    const out = await h.run(
      1,
      { op: 'file-copy', source: 'payload-50mb.bin', sha256: sha256(big), destination: 'C:\\Data\\payload.bin' },
      { env, timeoutSeconds: 600 },
    );
    expect(out.exitCode).toBe(0);
    expect(out.facts?.sha256).toBe(sha256(big));
    expect(sha256((await host(1).readFile('C:\\Data\\payload.bin')) ?? Buffer.alloc(0))).toBe(sha256(big));
    expect(sent.some((b) => b > 0 && b < big.length)).toBe(true);
  }, 600_000);
});

describe('event log, commands', () => {
  it('queries one log by level and age, newest first', async () => {
    const out = await h.run(0, { op: 'event-log', log: 'System', level: 'error', sinceMinutes: 60 });
    expect(out.facts).toMatchObject({ count: '1' });
    expect(out.stdout).toMatch(
      /Error Service Control Manager 7031: The Station Controller service terminated unexpectedly\./,
    );
    const all = await h.run(0, { op: 'event-log', log: 'System', sinceMinutes: 60 * 72 });
    expect(all.facts).toMatchObject({ count: '3' });
    const lines = all.stdout.trim().split(/\r?\n/);
    expect(lines[0]).toContain('7031');
    expect(lines[2]).toContain('An old bad block.');
  });

  it('runs a program with its arguments, and reports one that does not exist', async () => {
    const who = await h.run(0, { op: 'command', program: 'whoami' });
    expect(who.stdout.trim().toLowerCase()).toBe(
      `${h.fleet.hosts[0]?.hostname}\\${h.fleet.hosts[0]?.username}`.toLowerCase(),
    );
    const echo = await h.run(0, { op: 'command', program: 'cmd.exe', args: ['/c', 'echo', 'hello'] });
    expect(echo.stdout.trim()).toBe('hello');
    const missing = await h.run(0, { op: 'command', program: 'no-such-tool' });
    expect(missing.exitCode).toBe(1);
  });
});
