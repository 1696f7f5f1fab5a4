import { describe, expect, it } from 'vitest';
import { COMMAND_LINE_LIMIT, powershellInvocation, psQuote, readableStderr } from './powershell.js';

describe('PowerShell', () => {
  it('quotes values so nothing inside is expanded', () => {
    expect(psQuote("C:\\Program Files\\it's $here")).toBe("'C:\\Program Files\\it''s $here'");
    expect(psQuote('a\u2019b')).toBe("'a\u2019\u2019b'");
    expect(() => psQuote('a\0')).toThrow(/NUL/);
  });

  it('encodes a short script as UTF-16LE base64 on the command line', () => {
    const run = powershellInvocation("Get-Service -Name 'W32Time'");
    expect(run.stdin).toBeUndefined();
    const encoded = run.args[run.args.indexOf('-EncodedCommand') + 1] ?? '';
    expect(Buffer.from(encoded, 'base64').toString('utf16le')).toContain("Get-Service -Name 'W32Time'");
  });

  it('sends a script too long for a command line over stdin', () => {
    const script = `Write-Output '${'x'.repeat(COMMAND_LINE_LIMIT)}'`;
    const run = powershellInvocation(script);
    const bootstrap = Buffer.from(run.args[run.args.indexOf('-EncodedCommand') + 1] ?? '', 'base64').toString(
      'utf16le',
    );
    expect(bootstrap).toContain('[Console]::In.ReadLine()');
    expect(bootstrap.length).toBeLessThan(1_000);
    const line = run.stdin?.toString('ascii') ?? '';
    expect(line.endsWith('\r\n') && !line.slice(0, -2).includes('\n')).toBe(true);
    expect(Buffer.from(line, 'base64').toString('utf8')).toBe(script);
  });

  it('turns a CLIXML error stream into readable text', () => {
    const stderr =
      '#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">' +
      '<Obj S="progress" RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T></TN></Obj>' +
      '<S S="Error">Stop-Service : Cannot find any service with service name \'nope\'._x000D__x000A_</S>' +
      '<S S="Error">    + CategoryInfo : ObjectNotFound_x000D__x000A_</S></Objs>';
    expect(readableStderr(stderr)).toBe(
      "Stop-Service : Cannot find any service with service name 'nope'.\r\n    + CategoryInfo : ObjectNotFound\r\n",
    );
    expect(readableStderr('plain error\n')).toBe('plain error\n');
  });
});
