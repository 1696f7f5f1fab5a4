import { describe, expect, it } from 'vitest';
import { psQuote, windowsScriptFor } from '@opsc/activities/execution';
import { parsePrologue, PrologueError, splitOperationScript } from './ps-prologue.js';

describe('the operation prologue tokenizer', () => {
  it('reads every literal kind the client writes', () => {
    const { variables, utf8Output } = parsePrologue(
      [
        "$ProgressPreference = 'SilentlyContinue'",
        '[Console]::OutputEncoding = [System.Text.Encoding]::UTF8',
        "$ErrorActionPreference = 'Stop'",
        `$opsc_path = ${psQuote("C:\\it's \u2018quoted\u2019\\x")}`,
        '$opsc_n = -42',
        '$opsc_yes = $TRUE; $opsc_no = $false',
        '$opsc_none = $null',
        `$opsc_list = @(${['a', "b'c", ''].map(psQuote).join(', ')})`,
        '$opsc_empty = @()',
      ].join('\r\n'),
    );
    expect(utf8Output).toBe(true);
    expect(Object.fromEntries(variables)).toEqual({
      ProgressPreference: 'SilentlyContinue',
      ErrorActionPreference: 'Stop',
      opsc_path: "C:\\it's \u2018quoted\u2019\\x",
      opsc_n: -42,
      opsc_yes: true,
      opsc_no: false,
      opsc_none: null,
      opsc_list: ['a', "b'c", ''],
      opsc_empty: [],
    });
  });

  it('keeps $ and double quotes inside a single-quoted string literal', () => {
    const value = '$(Remove-Item C:\\ -Recurse) "x" `n';
    expect(parsePrologue(`$opsc_v = ${psQuote(value)}`).variables.get('opsc_v')).toBe(value);
  });

  it('refuses anything that is not a literal', () => {
    for (const bad of [
      '$opsc_v = "double"',
      '$opsc_v = Get-Date',
      "$opsc_v = 'unterminated",
      '$opsc_v = $env:PATH',
      "$opsc_v = 'a' + 'b'",
      'Remove-Item x',
    ]) {
      expect(() => parsePrologue(bad), bad).toThrow(PrologueError);
    }
  });

  it('splits a real operation script at its body marker', () => {
    const { script } = windowsScriptFor(
      { op: 'service', action: 'restart', name: 'Spooler', timeoutSeconds: 30 },
      { jobId: 'j', stepId: 's', nonce: 'abc123' },
    );
    const parts = splitOperationScript(script);
    expect(parts).not.toBeNull();
    const { variables } = parsePrologue(parts?.prologue ?? '');
    expect(Object.fromEntries(variables)).toMatchObject({
      opsc_op: 'service',
      opsc_nonce: 'abc123',
      opsc_action: 'restart',
      opsc_name: 'Spooler',
      opsc_timeoutSeconds: 30,
    });
    expect(parts?.body).toContain('Write-Fact');
    expect(splitOperationScript('Write-Output hi')).toBeNull();
  });
});
