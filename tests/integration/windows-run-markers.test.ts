import { randomBytes } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TargetRef } from '@opsc/contracts';
import { powershellInvocation, windowsScriptFor } from '@opsc/activities/execution';
import { startWinrmHarness, type WinrmHarness } from '../support/winrm-harness.js';
import { uploadArtifact } from '../support/artifacts.js';

// A retried Windows step (same job, step and target) must not apply its change twice; and its
// output reaches output_lines while it runs. One simulated host; a second target points at it.
const EXE = 'C:\\Program Files\\StationController\\stationcontroller.exe';
let h: WinrmHarness;
let twin: TargetRef;

beforeAll(async () => {
  h = await startWinrmHarness('windows-markers', {
    size: 1,
    firstOctet: 160,
    host: () => ({
      services: [
        {
          name: 'stationcontroller',
          image: 'stationcontroller.exe',
          path: EXE,
          status: 'Stopped',
          startDelayMs: 200,
          stopDelayMs: 200,
        },
      ],
      files: { [EXE]: Buffer.from('stationcontroller 1.0\n') },
    }),
  });
  const host = h.fleet.hosts[0]!;
  const id = await h.base.addTarget(
    {
      name: 'twin-cred',
      username: `${host.domain}\\${host.username}`,
      metadata: { transport: 'ntlm' },
      secret: { kind: 'winrm', password: host.password },
    },
    {
      name: 'twin',
      address: host.address,
      os: 'windows',
      services: [
        { protocol: 'winrm', scheme: 'http', port: host.httpPort, transport: 'ntlm', credential: 'twin-cred' },
      ],
    },
  );
  twin = { id, name: 'twin' };
}, 240_000);

afterAll(async () => {
  await h?.close();
});

const host = () => h.fleet.host(0);
const attempt = (n: number) => new MockActivityEnvironment({ attempt: n });
const NOT_AGAIN =
  /^already done by attempt 1 at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ; not run again \(run marker C:\\ProgramData\\OpsConductor\\runs\\\S+\.json\)\r?\n$/;
const markerOf = async (stepId: string, targetId = h.targetIds[0]) =>
  JSON.parse(
    (await host().readFile(`C:\\ProgramData\\OpsConductor\\runs\\${h.jobId}\\${stepId}\\${targetId}.json`))?.toString(
      'utf8',
    ) ?? 'null',
  ) as Record<string, unknown> | null;

describe('run markers over WinRM', () => {
  it('copies a file with backup once: the retry reports the same facts and leaves file and backup alone', async () => {
    const sha256 = await uploadArtifact(h.orchestrator.apiUrl, h.admin.token, 'sc.exe', 'stationcontroller 2.0\n');
    const copy = { op: 'file-copy', source: 'sc.exe', sha256, destination: EXE } as const;
    const first = await h.run(0, copy, { stepId: 'copy' });
    expect(first).toMatchObject({ exitCode: 0, facts: { replaced: 'true' } });
    const backup = first.facts?.backup ?? '';
    expect(backup).toBe(`C:\\ProgramData\\OpsConductor\\backups\\${h.jobId}\\copy\\stationcontroller.exe`);

    // A new version was uploaded under the name between the attempts (the retry still pins the first): a re-run would install it again.
    await uploadArtifact(h.orchestrator.apiUrl, h.admin.token, 'sc.exe', 'stationcontroller 3.0\n');
    const retry = await h.run(0, copy, { stepId: 'copy', env: attempt(2) });
    expect(retry.exitCode).toBe(0);
    expect(retry.facts).toEqual(first.facts);
    expect(retry.stdout).toMatch(NOT_AGAIN);
    expect((await host().readFile(EXE))?.toString()).toBe('stationcontroller 2.0\n');
    expect((await host().readFile(backup))?.toString()).toBe('stationcontroller 1.0\n');
    expect(await markerOf('copy')).toEqual({
      exitCode: 0,
      at: expect.stringMatching(/Z$/),
      attempt: 1,
      facts: first.facts,
    });
  });

  it('starts a service once, runs a command once per target and per step, and keeps no marker for reads', async () => {
    const start = { op: 'service', action: 'start', name: 'stationcontroller' } as const;
    expect((await h.run(0, start, { stepId: 'start' })).facts).toMatchObject({ before: 'Stopped', state: 'Running' });
    const pid = host()
      .processes()
      .find((p) => p.name === 'stationcontroller.exe')?.pid;
    const retry = await h.run(0, start, { stepId: 'start', env: attempt(2) });
    expect(retry.facts).toMatchObject({ before: 'Stopped', state: 'Running' });
    expect(retry.stdout).toMatch(NOT_AGAIN);
    expect(
      host()
        .processes()
        .find((p) => p.name === 'stationcontroller.exe')?.pid,
    ).toBe(pid);

    // `ipconfig /release` is not a read-only shape, so it is a change (the simulated host only prints).
    const release = { op: 'command' as const, program: 'ipconfig', args: ['/release'] };
    const ran = (await h.run(0, release, { stepId: 'release' })).stdout;
    expect(ran).toContain('Windows IP Configuration');
    expect((await h.run(0, release, { stepId: 'release', env: attempt(2) })).stdout).toMatch(NOT_AGAIN);
    expect((await h.run(twin, release, { stepId: 'release' })).stdout).toBe(ran);
    expect((await h.run(0, release, { stepId: 'release.rollback' })).stdout).toBe(ran);
    expect(await markerOf('release', twin.id)).toMatchObject({ exitCode: 0, attempt: 1 });

    // A command in an argv-exact read-only shape cannot change the host: it runs with no marker, and
    // a retry runs it again rather than reporting an earlier attempt.
    const hostname = { op: 'command', program: 'hostname' } as const;
    const name = host().identity.hostname;
    expect((await h.run(0, hostname, { stepId: 'name' })).stdout.trim()).toBe(name);
    const again = await h.run(0, hostname, { stepId: 'name', env: attempt(2) });
    expect(again.stdout.trim()).toBe(name);
    expect(await h.run(0, { op: 'command', program: 'ipconfig', args: ['/all'] }, { stepId: 'ip' })).toMatchObject({
      exitCode: 0,
    });
    expect(await host().exists(`C:\\ProgramData\\OpsConductor\\runs\\${h.jobId}\\name`)).toBe(false);
    expect(await host().exists(`C:\\ProgramData\\OpsConductor\\runs\\${h.jobId}\\ip`)).toBe(false);

    await h.run(0, { op: 'process-check', name: 'stationcontroller.exe' }, { stepId: 'check' });
    await h.run(0, { op: 'service', action: 'status', name: 'stationcontroller' }, { stepId: 'status' });
    expect(await host().exists(`C:\\ProgramData\\OpsConductor\\runs\\${h.jobId}\\check`)).toBe(false);
    expect(await host().exists(`C:\\ProgramData\\OpsConductor\\runs\\${h.jobId}\\status`)).toBe(false);
  });

  it('runs an operator script once, keeping its exit code', async () => {
    const script = { op: 'powershell', script: 'Write-Output "changed"\nexit 5' } as const;
    expect(await h.run(0, script, { stepId: 'ps' })).toMatchObject({ exitCode: 5, stdout: 'changed\r\n' });
    const retry = await h.run(0, script, { stepId: 'ps', env: attempt(2) });
    expect(retry.exitCode).toBe(5);
    expect(retry.stdout).toMatch(NOT_AGAIN);
  });
});

describe('a lease taken over over WinRM', () => {
  it('stops an owner past its lease with the installer it runs, and fails the step as a timeout that may have changed the host instead of running it again', async () => {
    // Attempt 1's executor is gone: its PowerShell runs on on the host, running a long native program.
    const nonce = randomBytes(8).toString('hex');
    const marker = { jobId: h.jobId, stepId: 'taken', targetId: h.targetIds[0]!, attempt: 1 };
    const owner = windowsScriptFor(
      { op: 'command', program: 'waitfor', args: ['/t', '600', 'opsc-never'] },
      { jobId: h.jobId, stepId: 'taken', nonce, marker, leaseSeconds: 1 },
    );
    const { command, args, stdin } = powershellInvocation(owner.script);
    const orphan = h.fleet.exec(0, [command, ...args].join(' '), stdin ? { stdin } : {});
    await expect
      .poll(
        () =>
          host()
            .processes()
            .find((p) => p.name === 'waitfor.exe')?.parentPid,
        { timeout: 10_000, interval: 20 },
      )
      .toBeDefined();
    const installer = host()
      .processes()
      .find((p) => p.name === 'waitfor.exe');

    const retry = h.run(
      0,
      { op: 'powershell', script: 'Write-Output "changed"' },
      { stepId: 'taken', env: attempt(2) },
    );
    await expect(retry).rejects.toMatchObject({
      type: 'Timeout',
      message: expect.stringMatching(
        /attempt 1 was stopped mid-change after its deadline; the host may be half-changed, so the change was not run again$/,
      ),
    });
    expect((await orphan).code).not.toBe(0);
    expect(host().process(installer?.pid ?? 0)).toBeUndefined();
    expect(host().process(installer?.parentPid ?? 0)).toBeUndefined();
    expect(await markerOf('taken')).toMatchObject({ exitCode: 71, attempt: 2, takenOver: 1 });
    // A later attempt says the same and still runs nothing.
    await expect(
      h.run(0, { op: 'powershell', script: 'Write-Output "changed"' }, { stepId: 'taken', env: attempt(3) }),
    ).rejects.toMatchObject({ type: 'Timeout' });
  });
});

describe('output lines over WinRM', () => {
  it('streams lines while the script runs, CRLF taken off, errors on stderr as text, fact lines left out', async () => {
    const lines = async (stepId: string) =>
      (
        await h.stack.pool.query<{ stream: string; line: string }>(
          'SELECT stream, line FROM output_lines WHERE job_id = $1 AND step_id = $2 ORDER BY seq',
          [h.jobId, stepId],
        )
      ).rows;
    let finished = false;
    const running = h
      .run(
        0,
        {
          op: 'powershell',
          script:
            'Write-Output "first"\n[Console]::Error.WriteLine("careful")\nStart-Sleep -Seconds 6\nWrite-Output "second"\nWrite-Error "it broke"',
        },
        { stepId: 'live' },
      )
      .finally(() => (finished = true));
    await expect
      .poll(async () => (await lines('live')).map((r) => r.line), { timeout: 5_000, interval: 50 })
      .toContain('first');
    expect(finished).toBe(false);
    const out = await running;
    expect(out.exitCode).toBe(1);
    const rows = await lines('live');
    expect(rows.slice(0, 3)).toEqual([
      { stream: 'stdout', line: 'first' },
      { stream: 'stderr', line: 'careful' },
      { stream: 'stdout', line: 'second' },
    ]);
    expect(rows.slice(3).some((r) => r.stream === 'stderr' && r.line.includes('it broke'))).toBe(true);
    expect(rows.some((r) => r.line.includes('CLIXML') || r.line.includes('<Objs'))).toBe(false);

    await h.run(0, { op: 'service', action: 'status', name: 'stationcontroller' }, { stepId: 'facts' });
    expect((await lines('facts')).map((r) => r.line)).toEqual(['Service stationcontroller is Running']);
  });
});
