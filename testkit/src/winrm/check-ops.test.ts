import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { powershellInvocation, readableStderr, windowsScriptFor } from '@opsc/activities/execution';
import { execOnHost } from './host-exec.js';
import { WinHost } from './win-host.js';

// The executor's own check scripts against a simulated host: what each reports, and that the
// host's services and files are as they were afterwards.
type Operation = Parameters<typeof windowsScriptFor>[0];

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const sha = (data: string) => createHash('sha256').update(data).digest('hex');
const EXE = 'C:\\Program Files\\Station\\stationcontroller.exe';
const BACKUP = 'C:\\ProgramData\\OpsConductor\\backups\\j\\s\\stationcontroller.exe';

const check = async (host: WinHost, operation: Operation, sha256?: string) => {
  const nonce = randomBytes(6).toString('hex');
  const script = windowsScriptFor(operation, { jobId: 'job-1', stepId: 'step-1', nonce }, { sha256 }).script;
  const { command, args, stdin } = powershellInvocation(script);
  const result = await execOnHost(host, [command, ...args].join(' '), { stdin: stdin ?? Buffer.alloc(0), utf8: false });
  const facts: Record<string, string> = {};
  for (const line of result.stdout.split('\r\n')) {
    const fact = new RegExp(`^@@opsc-${nonce} ([a-z0-9_]+)=(.*)$`).exec(line);
    if (fact?.[1]) facts[fact[1]] = fact[2] ?? '';
  }
  return { code: result.code, facts, stderr: readableStderr(result.stderr) };
};

describe('check operations on a simulated Windows host', () => {
  let host: WinHost;
  beforeEach(async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'opsc-winrm-check-'));
    dirs.push(dir);
    host = new WinHost({ name: 'win-09', hostname: 'WIN-09', address: '127.0.0.209', username: 'Administrator' }, dir, {
      services: [
        { name: 'StationCtl', path: EXE, status: 'Running' },
        { name: 'Spooler', status: 'Stopped' },
      ],
    });
    await host.files.seed(EXE, 'old build');
  });

  it("reports a service's status against the wanted one, and leaves it as it was", async () => {
    const stop = await check(host, { op: 'service-check', action: 'stop', name: 'stationctl' });
    expect(stop).toMatchObject({ code: 0, facts: { state: 'Running', wanted: 'Stopped', would_change: 'yes' } });
    const start = await check(host, { op: 'service-check', action: 'start', name: 'StationCtl' });
    expect(start.facts).toMatchObject({ state: 'Running', would_change: 'no' });
    const stopped = await check(host, { op: 'service-check', action: 'stop', name: 'Spooler' });
    expect(stopped.facts).toMatchObject({ state: 'Stopped', would_change: 'no' });
    const restart = await check(host, { op: 'service-check', action: 'restart', name: 'Spooler' });
    expect(restart.facts.would_change).toBe('yes');
    const missing = await check(host, { op: 'service-check', action: 'start', name: 'NoSuch' });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("Cannot find any service with service name 'NoSuch'");
    expect(host.service('StationCtl')?.status).toBe('Running');
    expect(host.service('Spooler')?.status).toBe('Stopped');
  });

  it("compares the destination's SHA-256 with the artifact's, and writes nothing", async () => {
    const other = await check(host, { op: 'file-check', source: 'a.exe', destination: EXE, backup: true }, sha('new'));
    expect(other).toMatchObject({
      code: 0,
      facts: {
        would_change: 'yes',
        target_sha256: sha('old build'),
        artifact_sha256: sha('new'),
        backup: 'would be created',
      },
    });
    const same = await check(
      host,
      { op: 'file-check', source: 'a.exe', destination: EXE, backup: true },
      sha('old build'),
    );
    expect(same.facts.would_change).toBe('no');
    const absent = await check(
      host,
      { op: 'file-check', source: 'a.exe', destination: 'C:\\New\\app.exe', backup: true },
      sha('new'),
    );
    expect(absent.facts).toMatchObject({ would_change: 'yes', target_sha256: '', backup: 'none (no file to replace)' });
    expect((await host.files.read(EXE))?.toString()).toBe('old build');
    expect(await host.files.exists('C:\\New')).toBe(false);
    expect(await host.files.exists('C:\\ProgramData\\OpsConductor\\backups')).toBe(false);
  });

  it('tells whether a restore would change the destination', async () => {
    await host.files.seed(BACKUP, 'old build');
    const same = await check(host, { op: 'file-restore-check', destination: EXE, backup: BACKUP });
    expect(same.facts).toMatchObject({ would_change: 'no', backup_sha256: sha('old build') });
    await host.files.seed(BACKUP, 'older build');
    expect((await check(host, { op: 'file-restore-check', destination: EXE, backup: BACKUP })).facts.would_change).toBe(
      'yes',
    );
    expect((await check(host, { op: 'file-restore-check', destination: EXE, backup: null })).facts.would_change).toBe(
      'yes',
    );
    const gone = await check(host, { op: 'file-restore-check', destination: EXE, backup: `${BACKUP}.x` });
    expect(gone.code).toBe(1);
    expect((await host.files.read(EXE))?.toString()).toBe('old build');
  });
});
