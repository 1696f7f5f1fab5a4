import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@opsc/dev';
import { FaultCode, startWinrmFleet, type WinrmFleet, type WinrmFleetHost } from '@opsc/testkit';

// The test fleet's WS-Management endpoint driven by pywinrm 0.5.0 (requests_ntlm, pyspnego), a
// client we did not write: NTLM with message encryption, Basic and certificate auth over HTTPS,
// the refusals, and the operation-timeout fault its Receive loop expects. A mistake our client
// and our endpoint share cannot pass here.
const PYTHON = path.join(REPO_ROOT, '.venv', 'bin', 'python');
const DRIVER = path.join(REPO_ROOT, 'tests', 'python', 'winrm_check.py');

interface Check {
  name: string;
  endpoint: string;
  transport: string;
  username?: string | null;
  password?: string | null;
  session?: Record<string, unknown>;
  run: 'cmd' | 'ps';
  command?: string;
  args?: string[];
  script?: string;
}
type Result =
  | { name: string; ok: true; status_code: number; std_out: string; std_err: string; receives: number; seconds: number }
  | { name: string; ok: false; error_type: string; error: string; seconds: number };

/** Runs the checks in one pywinrm process; the spec, passwords included, goes over stdin. */
const pywinrm = (checks: Check[]): Promise<Map<string, Result>> =>
  new Promise((resolve, reject) => {
    const child = execFile(
      PYTHON,
      [DRIVER],
      { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`pywinrm driver failed: ${err.message}\n${stderr}`));
        const results = JSON.parse(stdout) as Result[];
        resolve(new Map(results.map((r) => [r.name, r])));
      },
    );
    child.stdin?.end(JSON.stringify({ checks }));
  });

const ok = (results: Map<string, Result>, name: string) => {
  const result = results.get(name);
  if (!result?.ok) throw new Error(`${name} failed: ${JSON.stringify(result)}`);
  return result;
};

describe('the WinRM test endpoint, driven by pywinrm', () => {
  let fleet: WinrmFleet;
  let dir: string;
  let results: Map<string, Result>;
  let host: WinrmFleetHost;

  beforeAll(async () => {
    // Ephemeral ports on 127.0.0.150+: clear of the SSH fleet and of other WinRM fleets.
    fleet = await startWinrmFleet({ size: 1, firstOctet: 150, httpPort: 0, httpsPort: 0 });
    host = fleet.hosts[0] as WinrmFleetHost;
    dir = await mkdtemp(path.join(os.tmpdir(), 'opsc-pywinrm-'));
    const files = {
      ca: path.join(dir, 'ca.pem'),
      cert: path.join(dir, 'client.pem'),
      key: path.join(dir, 'client.key'),
    };
    await writeFile(files.ca, fleet.caCertificate);
    await writeFile(files.cert, fleet.clientCertificate.certificate);
    await writeFile(files.key, fleet.clientCertificate.privateKey, { mode: 0o600 });

    const http = `http://${host.address}:${host.httpPort}/wsman`;
    const https = `https://${host.address}:${host.httpsPort}/wsman`;
    const ntlm = { endpoint: http, transport: 'ntlm', username: host.username, password: host.password };
    const verified = { server_cert_validation: 'validate', ca_trust_path: files.ca };
    results = await pywinrm([
      { ...ntlm, name: 'ntlm-hostname', run: 'cmd', command: 'hostname' },
      { ...ntlm, name: 'ntlm-many-lines', run: 'ps', script: '1..10000 | ForEach-Object { Write-Output "line $_" }' },
      { ...ntlm, name: 'ntlm-ps-error', run: 'ps', script: "Write-Output 'before'\nWrite-Error 'the widget broke'" },
      { ...ntlm, name: 'ntlm-exit-code', run: 'ps', script: 'Write-Output bye; exit 7' },
      { ...ntlm, name: 'ntlm-unknown-program', run: 'cmd', command: 'frobnicate', args: ['--now'] },
      { ...ntlm, name: 'ntlm-wrong-password', password: `${host.password}x`, run: 'cmd', command: 'hostname' },
      {
        ...ntlm,
        name: 'ntlm-operation-timeout',
        session: { operation_timeout_sec: 1, read_timeout_sec: 5 },
        run: 'ps',
        script: 'Write-Output start\nStart-Sleep -Seconds 3\nWrite-Output end',
      },
      { ...ntlm, name: 'ntlm-https', endpoint: https, session: verified, run: 'cmd', command: 'whoami' },
      {
        name: 'basic-https',
        endpoint: https,
        transport: 'basic',
        username: host.username,
        password: host.password,
        session: verified,
        run: 'cmd',
        command: 'whoami',
      },
      {
        name: 'basic-http-refused',
        endpoint: http,
        transport: 'basic',
        username: host.username,
        password: host.password,
        run: 'cmd',
        command: 'whoami',
      },
      {
        name: 'certificate',
        endpoint: https,
        transport: 'certificate',
        username: null,
        password: null,
        session: { ...verified, cert_pem: files.cert, cert_key_pem: files.key },
        run: 'cmd',
        command: 'hostname',
      },
    ]);
  });

  afterAll(async () => {
    await fleet?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs a command over NTLM with message encryption', () => {
    expect(ok(results, 'ntlm-hostname')).toMatchObject({
      status_code: 0,
      std_out: `${host.hostname}\r\n`,
      std_err: '',
    });
    const stats = fleet.stats(0);
    expect(stats.authentications.ntlm).toBeGreaterThanOrEqual(1);
    expect(stats.encryptedRequests).toBeGreaterThan(0);
    expect(stats.openShells).toBe(0);
  });

  it('delivers long output over several Receives', () => {
    const result = ok(results, 'ntlm-many-lines');
    const lines = result.std_out.split('\r\n');
    expect(lines.slice(0, 2)).toEqual(['line 1', 'line 2']);
    expect(lines.at(-2)).toBe('line 10000');
    expect(lines).toHaveLength(10_001);
    expect(result.receives).toBeGreaterThanOrEqual(2);
  });

  it('writes PowerShell errors as CLIXML that pywinrm turns back into text, and reports exit codes', () => {
    const failed = ok(results, 'ntlm-ps-error');
    expect(failed.std_out).toBe('before\r\n');
    expect(failed.std_err).toContain('the widget broke');
    expect(failed.std_err).not.toContain('CLIXML');
    expect(failed.status_code).toBe(1);
    expect(ok(results, 'ntlm-exit-code')).toMatchObject({ status_code: 7, std_out: 'bye\r\n' });
    expect(ok(results, 'ntlm-unknown-program')).toMatchObject({
      status_code: 1,
      std_err:
        "'frobnicate' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n",
    });
  });

  it('keeps asking through operation-timeout faults until the command is done', () => {
    const result = ok(results, 'ntlm-operation-timeout');
    expect(result).toMatchObject({ status_code: 0, std_out: 'start\r\nend\r\n' });
    expect(result.seconds).toBeGreaterThanOrEqual(3);
    expect(result.receives).toBeGreaterThanOrEqual(3);
    expect(fleet.stats(0).faults[FaultCode.operationTimeout]).toBeGreaterThanOrEqual(2);
  });

  it('serves HTTPS with the fleet CA to NTLM, Basic and certificate clients', () => {
    expect(ok(results, 'ntlm-https')).toMatchObject({ status_code: 0, std_out: `${host.name}\\administrator\r\n` });
    expect(ok(results, 'basic-https')).toMatchObject({ status_code: 0, std_out: `${host.name}\\administrator\r\n` });
    expect(ok(results, 'certificate')).toMatchObject({ status_code: 0, std_out: `${host.hostname}\r\n` });
    expect(fleet.stats(0).authentications.certificate).toBeGreaterThanOrEqual(1);
  });

  it('refuses a wrong password, and unencrypted Basic over HTTP', () => {
    expect(results.get('ntlm-wrong-password')).toMatchObject({ ok: false, error_type: 'InvalidCredentialsError' });
    expect(results.get('basic-http-refused')).toMatchObject({ ok: false, error_type: 'InvalidCredentialsError' });
  });
});
