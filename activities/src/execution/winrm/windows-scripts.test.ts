import { describe, expect, it } from 'vitest';
import { WindowsOperation } from '@opsc/contracts';
import { powershellInvocation } from './powershell.js';
import { stagedPathFor, stageScriptFor } from './stage-script.js';
import {
  BODY_MARKER,
  powershellScriptFor,
  windowsScriptFor,
  type ScriptedWindowsOperation,
} from './windows-scripts.js';

const ctx = { jobId: 'job-1', stepId: 'copy', nonce: '0123456789abcdef' };
const op = (o: unknown) => WindowsOperation.parse(o) as ScriptedWindowsOperation;
const prologueOf = (script: string) => script.slice(0, script.indexOf(BODY_MARKER));

describe('Windows operation scripts', () => {
  it('carry every value as a quoted literal in the prologue, so the body never holds operator text', () => {
    const hostile = "x'; Remove-Item -Recurse C:\\ ; '";
    const { script } = windowsScriptFor(
      op({ op: 'command', program: 'ipconfig', args: [hostile, '$env:USERNAME', '`whoami`'] }),
      ctx,
    );
    expect(prologueOf(script)).toContain(
      `$opsc_args = @('x''; Remove-Item -Recurse C:\\ ; ''', '$env:USERNAME', '\`whoami\`')`,
    );
    const body = script.slice(script.indexOf(BODY_MARKER));
    expect(body).not.toContain('Remove-Item -Recurse C:\\');
    expect(body).not.toContain('ipconfig');
  });

  it('map parameters to typed literals: integers, booleans, $null for absent values', () => {
    const wait = windowsScriptFor(
      op({ op: 'service-wait', name: 'stationcontroller', state: 'stopped', timeoutSeconds: 45 }),
      ctx,
    ).script;
    expect(prologueOf(wait)).toContain("$opsc_state = 'Stopped'\n$opsc_timeoutSeconds = 45");
    const events = windowsScriptFor(op({ op: 'event-log', log: 'Application', level: 'error' }), ctx).script;
    expect(prologueOf(events)).toMatch(
      /\$opsc_level = 2\n\$opsc_provider = \$null\n\$opsc_sinceMinutes = 60\n\$opsc_maxEvents = 50/,
    );
  });

  it('put file-copy backups under the job and step, and need the SHA-256', () => {
    const copy = op({ op: 'file-copy', source: 'sc.exe', destination: 'C:\\Program Files\\SC\\sc.exe' });
    expect(() => windowsScriptFor(copy, ctx)).toThrow(/SHA-256/);
    expect(() => windowsScriptFor(copy, ctx, { sha256: 'ab'.repeat(32) })).toThrow(/staged upload/);
    const { script } = windowsScriptFor(copy, ctx, { sha256: 'ab'.repeat(32), staged: stagedPathFor(ctx.nonce) });
    expect(prologueOf(script)).toContain("$opsc_backupDir = 'C:\\ProgramData\\OpsConductor\\backups\\job-1\\copy'");
    expect(prologueOf(script)).toContain('$opsc_backup = $true');
    expect(prologueOf(script)).toContain(
      "$opsc_staged = 'C:\\ProgramData\\OpsConductor\\staging\\0123456789abcdef.upload'",
    );
    // The copy reads the staged file; only the upload reads stdin, and it holds no run marker.
    expect(script).not.toContain('[Console]::In');
    const stage = stageScriptFor(ctx, { sha256: 'ab'.repeat(32), bytes: 2_097_152 }).script;
    expect(prologueOf(stage)).toContain("$opsc_op = 'file-stage'");
    expect(prologueOf(stage)).toContain('$opsc_bytes = 2097152');
    expect(stage).not.toContain('$opsc_runs');
  });

  it('fit on a command line even with the longest destination, or go over stdin as one line ahead of the data', () => {
    const long = `C:\\${'d'.repeat(200)}\\${'e'.repeat(200)}\\${'f'.repeat(200)}\\${'g'.repeat(200)}.exe`;
    const { script } = windowsScriptFor(op({ op: 'file-copy', source: 'sc.exe', destination: long }), ctx, {
      sha256: 'ab'.repeat(32),
      staged: stagedPathFor(ctx.nonce),
    });
    const run = powershellInvocation(script);
    const line = run.stdin?.toString('ascii') ?? '';
    expect(line.endsWith('\r\n')).toBe(true);
    expect(Buffer.from(line.trim(), 'base64').toString('utf8')).toBe(script);
    expect(run.args.join(' ').length).toBeLessThan(8_191);
  });

  it('run a changing operation under its run marker with the body as a literal, and leave reads alone', () => {
    const marker = { jobId: 'job-1', stepId: 'copy.rollback', targetId: 't-1', attempt: 2 };
    const { script } = windowsScriptFor(op({ op: 'command', program: 'ipconfig', args: ["x'y"] }), { ...ctx, marker });
    const prologue = prologueOf(script);
    expect(prologue).toContain(
      "$opsc_runs = 'C:\\ProgramData\\OpsConductor\\runs'\n$opsc_runJob = 'job-1'\n$opsc_runStep = 'copy.rollback'\n$opsc_runTarget = 't-1'\n$opsc_attempt = 2\n$opsc_leaseSeconds = 86400",
    );
    expect(
      prologueOf(
        windowsScriptFor(op({ op: 'command', program: 'ipconfig', args: ['/release'] }), {
          ...ctx,
          marker,
          leaseSeconds: 360,
        }).script,
      ),
    ).toContain('$opsc_leaseSeconds = 360');
    expect(prologue).toContain("$opsc_bodyErrorAction = 'Stop'\n$opsc_body = '& $opsc_program @opsc_args");
    const envelope = script.slice(script.indexOf(BODY_MARKER));
    expect(envelope).toContain('[System.IO.File]::Move($opsc_tmp, $opsc_marker)');
    expect(envelope).not.toContain("x'y");
    expect(envelope).not.toContain('@opsc_args');

    expect(
      windowsScriptFor(op({ op: 'service', action: 'status', name: 'w32time' }), { ...ctx, marker }).script,
    ).not.toContain('$opsc_runs');
    // A command in an argv-exact read-only shape needs no marker; another argument makes it a change.
    expect(
      windowsScriptFor(op({ op: 'command', program: 'ipconfig', args: ['/all'] }), { ...ctx, marker }).script,
    ).not.toContain('$opsc_runs');
    expect(windowsScriptFor(op({ op: 'command', program: 'hostname.exe' }), { ...ctx, marker }).script).not.toContain(
      '$opsc_runs',
    );
    expect(
      windowsScriptFor(op({ op: 'service', action: 'restart', name: 'w32time' }), { ...ctx, marker }).script,
    ).toContain('$opsc_runs');

    const own = { op: 'powershell' as const, script: "Write-Output 'hi'" };
    expect(powershellScriptFor(own, ctx).script).toBe("Write-Output 'hi'");
    const wrapped = prologueOf(powershellScriptFor(own, { ...ctx, marker }).script);
    expect(wrapped).toContain("$opsc_op = 'powershell'");
    expect(wrapped).toContain("$opsc_bodyErrorAction = 'Continue'\n$opsc_body = 'Write-Output ''hi'''");
  });
});
