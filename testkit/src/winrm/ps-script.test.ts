import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { powershellInvocation, readableStderr } from '@opsc/activities/execution';
import { execOnHost } from './host-exec.js';
import { ShellCommand } from './shells.js';
import { WinHost } from './win-host.js';

const encoded = (script: string) => `powershell -encodedcommand ${Buffer.from(script, 'utf16le').toString('base64')}`;

describe('the simulated powershell.exe and cmd.exe', () => {
  let dir: string;
  let host: WinHost;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'opsc-winrm-ps-'));
    host = new WinHost({ name: 'win-07', hostname: 'WIN-07', address: '127.0.0.207', username: 'Administrator' }, dir);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('runs output statements, a counted ForEach-Object and $env:COMPUTERNAME', async () => {
    const result = await execOnHost(
      host,
      encoded(
        `Write-Output 'a''b'; echo "on $env:COMPUTERNAME"\n1..3 | ForEach-Object { Write-Output "line $_" }\nWrite-Host ('ab' * 3)\nhostname`,
      ),
    );
    expect(result).toEqual({
      code: 0,
      stdout: "a'b\r\non WIN-07\r\nline 1\r\nline 2\r\nline 3\r\nababab\r\nWIN-07\r\n",
      stderr: '',
    });
  });

  it('reports Write-Error and unknown commands as CLIXML error records and fails with exit code 1', async () => {
    const result = await execOnHost(
      host,
      encoded("Write-Error 'first problem'\nWrite-Output still-running\nGet-Frobnicator -All"),
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('still-running\r\n');
    expect(result.stderr).toMatch(
      /^#< CLIXML\r\n<Objs Version="1\.1\.0\.1" xmlns="http:\/\/schemas\.microsoft\.com\/powershell\/2004\/04"><S S="Error">/,
    );
    const readable = readableStderr(result.stderr);
    expect(readable).toContain("Write-Error 'first problem' : first problem\r\n");
    expect(readable).toContain(
      "Get-Frobnicator : The term 'Get-Frobnicator' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.\r\nAt line:3 char:1\r\n+ Get-Frobnicator -All\r\n+ ~~~~~~~~~~~~~~~\r\n",
    );
  });

  it("stops at the first error under $ErrorActionPreference = 'Stop', and honours exit codes", async () => {
    const stopped = await execOnHost(
      host,
      encoded("$ErrorActionPreference = 'Stop'\nWrite-Error 'fatal'\nWrite-Output unreachable"),
    );
    expect(stopped.code).toBe(1);
    expect(stopped.stdout).toBe('');
    expect((await execOnHost(host, encoded('Write-Output x; exit 42'))).code).toBe(42);
    expect((await execOnHost(host, encoded('Write-Output x'))).code).toBe(0);
  });

  it('runs the client stdin bootstrap, prelude and all, with UTF-8 output', async () => {
    const { command, args, stdin } = powershellInvocation(`${'# padding\n'.repeat(1000)}Write-Output 'grüße'; exit 7`);
    expect(stdin).toBeDefined();
    const result = await execOnHost(host, [command, ...args].join(' '), { stdin, utf8: false });
    expect(result).toEqual({ code: 7, stdout: 'grüße\r\n', stderr: '' });
  });

  it('writes non-ASCII as ? under an OEM code page', async () => {
    expect((await execOnHost(host, encoded("Write-Output 'grüße'"), { utf8: false })).stdout).toBe('gr??e\r\n');
  });

  it('runs plain programs through cmd.exe, and gives cmd’s message for unknown ones', async () => {
    expect(await execOnHost(host, 'whoami')).toEqual({ code: 0, stdout: 'win-07\\administrator\r\n', stderr: '' });
    expect((await execOnHost(host, 'cmd /c echo hello  world')).stdout).toBe('hello  world\r\n');
    expect((await execOnHost(host, 'ipconfig')).stdout).toContain(
      'IPv4 Address. . . . . . . . . . . : 127.0.0.207\r\n',
    );
    expect(await execOnHost(host, 'frob.exe /x')).toEqual({
      code: 1,
      stdout: '',
      stderr: "'frob.exe' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n",
    });
  });

  it('produces output over time, and a terminate ends a sleeping script with STATUS_CONTROL_C_EXIT', async () => {
    const command = new ShellCommand(
      'C1',
      encoded('Write-Output before; Start-Sleep -Seconds 30; Write-Output after'),
      host,
      true,
    );
    expect(await command.waitFor(() => command.pending > 0, 2_000)).toBe(true);
    expect(command.done).toBe(false);
    const started = Date.now();
    command.terminate();
    expect(command.exitCode).toBe(-1073741510);
    expect(Date.now() - started).toBeLessThan(1_000);
    const text = command
      .take({ streamBytes: 1 << 20, totalBytes: 1 << 20, room: 1 << 20, overhead: 0 })
      .map((p) => p.data.toString())
      .join('');
    expect(text).toBe('before\r\n');
  });

  it('sleeps in real time', async () => {
    const started = Date.now();
    await execOnHost(host, encoded('Start-Sleep -Milliseconds 300'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });
});
