import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { REPO_ROOT } from '@opsc/dev';
import { allowEgress, requestJson, waitForJob, type JobView, type StepResultView } from '../support/api.js';
import { approveAndWait, type Created } from '../support/rollout.js';
import { registerTestSecrets } from '../support/secret-registry.js';
import { createTestStack, type RunningExecutor, type TestStack } from '../support/stack.js';

interface Recorder {
  server: http.Server;
  hits: string[];
  host: string;
}

/** A loopback HTTP server that records every request it receives. */
const recorder = async (
  handle: (req: http.IncomingMessage, res: http.ServerResponse) => void = (_req, res) => res.end('ok'),
): Promise<Recorder> => {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, hits, host: `127.0.0.1:${(server.address() as AddressInfo).port}` };
};

type ApiAnswer = Created & { error?: { type: string; issues?: { path: string; message: string }[] } };

/**
 * The executor as a confused deputy (issue 15): an operator with an approved change, or a read-only
 * http step, must not reach the executor's keys, its database, its processes, its disk or the
 * platform's own services. The executor allows curl, cat, date and touch here, so what holds is the
 * sandbox and the egress policy, not the command allowlist.
 */
describe('the executor is no confused deputy', () => {
  let stack: TestStack;
  let apiUrl: string;
  let executor: RunningExecutor;
  let operator: { token: string };
  let approver: { token: string };
  let admin: { token: string };
  let allowed: Recorder;
  let stranger: Recorder;
  let vaultPem: string;
  const secrets: string[] = [];
  const jobIds: string[] = [];
  const scratch = `pwned-${randomBytes(4).toString('hex')}`;
  const rootOnlyFile = path.join(REPO_ROOT, 'test-results', `root-only-${randomBytes(4).toString('hex')}`);
  const rootOnlyMarker = `ROOT-ONLY-${randomBytes(6).toString('hex')}`;
  const temporalAddress = inject('temporalAddress');
  const pgPort = new URL(inject('postgresAdminUrl')).port;

  beforeAll(async () => {
    stack = await createTestStack('security-executor');
    ({ apiUrl } = await stack.startOrchestrator());
    vaultPem = readFileSync(stack.vaultKeyFile, 'utf8');
    executor = await stack.startExecutor({
      EXECUTOR_LOCAL_COMMANDS: 'curl,cat,date,touch,echo',
      // As `npm run up` does: the API is one of the platform's own services.
      EXECUTOR_EGRESS_DENY: new URL(apiUrl).host,
      // The key in the executor's own environment too, where /proc/<pid>/environ would show it.
      OPSC_VAULT_KEY: vaultPem,
    });
    operator = await stack.createUser('operator');
    approver = await stack.createUser('approver');
    admin = await stack.createUser('admin');
    stranger = await recorder();
    allowed = await recorder((req, res) => {
      if (req.url === '/jump') res.writeHead(302, { location: `http://${stranger.host}/followed` }).end();
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('allowed and answered');
    });
    await allowEgress(apiUrl, admin.token, [allowed.host]);
    writeFileSync(rootOnlyFile, `${rootOnlyMarker}\n`, { mode: 0o600 });
    secrets.push(
      ...vaultPem.split('\n').filter((l) => l.length > 40),
      new URL(stack.roleUrls.executor).password,
      new URL(stack.roleUrls.orchestrator).password,
      decodeURIComponent(new URL(inject('postgresAdminUrl')).password),
    );
    registerTestSecrets('security-executor', secrets);
  });

  afterAll(async () => {
    await stack?.close();
    allowed?.server.close();
    stranger?.server.close();
    rmSync(rootOnlyFile, { force: true });
  });

  /** Runs one local command as an approved change (an operator asks, an approver approves) and returns its result. */
  const change = async (command: string, args: string[]): Promise<StepResultView> => {
    const plan = {
      name: `${command} attack`,
      steps: [{ id: 'attack', name: command, action: { method: 'local-command', command, args } }],
      policies: { maxAttempts: 1 },
    };
    const created = await requestJson<ApiAnswer>(`${apiUrl}/api/jobs`, { token: operator.token, body: { plan } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    jobIds.push(created.body.id);
    const job = await approveAndWait(apiUrl, operator.token, approver.token, created.body, 60_000);
    const result = job.results.find((r) => r.stepId === 'attack');
    if (!result) throw new Error(`no result: ${JSON.stringify(job)}`);
    return result;
  };

  /** A read-only GET; null when the plan validator refused it before anything ran, else the job. */
  const get = async (url: string): Promise<JobView | null> => {
    const plan = {
      name: `GET ${url}`,
      steps: [{ id: 'get', name: 'GET', action: { method: 'http', url } }],
      policies: { maxAttempts: 1 },
    };
    const res = await requestJson<ApiAnswer>(`${apiUrl}/api/jobs`, { token: operator.token, body: { plan } });
    if (res.status !== 201) {
      // The plan validator may judge the URL first; then nothing reached the executor either.
      expect([400, 422], JSON.stringify(res.body)).toContain(res.status);
      expect(res.body.error?.issues?.map((i) => i.path)).toContain('plan.steps.0.action.url');
      return null;
    }
    jobIds.push(res.body.id);
    return waitForJob(apiUrl, operator.token, res.body.id);
  };

  const expectRefused = async (url: string, why: RegExp) => {
    const job = await get(url);
    if (!job) return;
    expect(job.status, url).toBe('failed');
    expect(job.results[0], url).toMatchObject({
      status: 'failed',
      attempt: 1,
      httpStatus: null,
      error: { type: 'EgressDenied', message: expect.stringMatching(why) },
    });
  };

  it('says on /health that local commands run sandboxed, as the unprivileged sandbox user', async () => {
    const health = await requestJson<{ status: string; checks: Record<string, { ok: boolean; user?: string }> }>(
      `${executor.healthUrl}/health`,
    );
    expect(health.status).toBe(200);
    expect(health.body.checks.sandbox).toMatchObject({
      ok: true,
      user: expect.stringMatching(/^opsc-sandbox \([1-9][0-9]*\)$/),
    });
  });

  it('curl file:// of the vault key reads nothing', async () => {
    const result = await change('curl', ['-sS', `file://${stack.vaultKeyFile}`]);
    expect(result.exitCode).toBe(37);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/Couldn't open file|Couldn't read/);
  });

  it('cat /proc/<executor pid>/environ finds no executor, and /proc/1/environ holds PATH and locale only', async () => {
    const own = await change('cat', [`/proc/${executor.service.pid}/environ`]);
    expect(own.exitCode).toBe(1);
    expect(own.stdout).toBe('');
    expect(own.stderr).toMatch(/No such file or directory/);
    const first = await change('cat', ['/proc/1/environ']);
    expect(first.exitCode).toBe(0);
    // Stored output cannot hold NUL: the separators come back as U+FFFD.
    const names = (first.stdout ?? '')
      .split(/[\0\uFFFD]/)
      .filter(Boolean)
      .map((kv) => kv.split('=')[0]);
    expect(names.sort()).toEqual(['LANG', 'LC_ALL', 'PATH']);
  });

  it('curl -o and touch write nothing on the executor host', async () => {
    const inRepo = path.join(REPO_ROOT, 'test-results', scratch);
    const inTmp = path.join(os.tmpdir(), scratch);
    const written = await change('curl', ['-sS', '-o', inRepo, 'file:///etc/hostname']);
    expect(written.exitCode).toBe(23);
    expect(written.stderr).toMatch(/Read-only file system|Failed writing|Failure writing/i);
    // /tmp is the sandbox's own: the write succeeds there and is gone with it.
    const inPrivateTmp = await change('curl', ['-sS', '-o', inTmp, 'file:///etc/hostname']);
    expect(inPrivateTmp.exitCode).toBe(0);
    const touched = await change('touch', [`${inRepo}-touch`]);
    expect(touched.stderr).toMatch(/Read-only file system/);
    for (const file of [inRepo, inTmp, `${inRepo}-touch`]) expect(existsSync(file), file).toBe(false);
  });

  it('date -f prints none of the lines of a file only root may read', async () => {
    const result = await change('date', ['-f', rootOnlyFile]);
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(/Permission denied/);
    expect(`${result.stdout}${result.stderr}`).not.toContain(rootOnlyMarker);
  });

  it('curl to a port of the stack finds no network at all', async () => {
    for (const url of [`${apiUrl}/api/health`, `http://${stranger.host}/`, `http://${allowed.host}/`]) {
      const result = await change('curl', ['-sS', '-m', '5', url]);
      expect(result.exitCode, url).toBe(7);
      expect(result.stdout, url).toBe('');
    }
    expect(stranger.hits).toEqual([]);
    expect(allowed.hits).toEqual([]);
  });

  it('refuses http steps to every loopback service of the stack, and a server that is not allowed receives nothing', async () => {
    await expectRefused(`${apiUrl}/api/health`, /loopback address|platform itself/);
    await expectRefused(`http://${temporalAddress}/`, /loopback address|platform itself/);
    await expectRefused(`http://127.0.0.1:${pgPort}/`, /loopback address|platform itself/);
    await expectRefused(`${executor.healthUrl}/health`, /loopback address|platform itself/);
    await expectRefused(`http://${stranger.host}/probe`, /loopback address/);
    // The same service under other spellings of loopback.
    const port = new URL(`http://${stranger.host}`).port;
    for (const host of ['2130706433', '0x7f.1', '127.1', '[::ffff:127.0.0.1]', 'localhost', '0.0.0.0'])
      await expectRefused(`http://${host}:${port}/`, /loopback|unspecified/);
    expect(stranger.hits).toEqual([]);
  });

  it('does not follow a redirect from an allowed server to one that is not', async () => {
    const job = await get(`http://${allowed.host}/jump`);
    expect(job?.results[0]).toMatchObject({
      status: 'failed',
      httpStatus: 302,
      error: { type: 'UnexpectedStatus', message: 'HTTP 302' },
    });
    expect(allowed.hits).toContain('GET /jump');
    expect(stranger.hits).toEqual([]);
  });

  it('reaches a loopback destination the tenant allows', async () => {
    const job = await get(`http://${allowed.host}/status`);
    expect(job?.status).toBe('completed');
    expect(job?.results[0]).toMatchObject({ status: 'succeeded', httpStatus: 200, stdout: 'allowed and answered' });
  });

  it('keeps the platform out of reach even when a tenant admin allows its exact ports', async () => {
    const platform = [new URL(apiUrl).host, temporalAddress, `127.0.0.1:${pgPort}`, new URL(executor.healthUrl).host];
    await allowEgress(apiUrl, admin.token, [allowed.host, ...platform]);
    try {
      for (const host of platform) await expectRefused(`http://${host}/`, /platform itself/);
    } finally {
      await allowEgress(apiUrl, admin.token, [allowed.host]);
    }
  });

  it('lets tenant admins alone manage the allow list, checks each entry, and audits each change', async () => {
    const put = (token: string, allow: unknown[]) =>
      requestJson<{ error?: { issues?: { path: string }[] } }>(`${apiUrl}/api/tenant/egress`, {
        method: 'PUT',
        token,
        body: { allow },
      });
    expect((await put(operator.token, [{ destination: allowed.host }])).status).toBe(403);
    const bad = await put(admin.token, [
      { destination: '169.254.169.254' },
      { destination: '127.0.0.1:http' },
      { destination: '127.0.0.1' },
      { destination: 'ok.example', note: 'bell\u0007inside' },
      { destination: 'metadata.google.internal:80' },
    ]);
    expect(bad.status).toBe(400);
    expect(bad.body.error?.issues?.map((i) => i.path).sort()).toEqual([
      'allow.0.destination',
      'allow.1.destination',
      'allow.2.destination',
      'allow.3.note',
      'allow.4.destination',
    ]);
    const list = await requestJson<{ allow: { destination: string; addedBy: string }[] }>(
      `${apiUrl}/api/tenant/egress`,
      { token: operator.token },
    );
    expect(list.body.allow.map((a) => a.destination)).toEqual([allowed.host]);
    const { rows } = await stack.pool.query(
      `SELECT actor, details FROM audit_log WHERE action = 'tenant.egress.update' ORDER BY id`,
    );
    expect(rows.length).toBeGreaterThanOrEqual(3);
    expect(rows.at(-1).details).toMatchObject({ removed: expect.arrayContaining([temporalAddress]) });
  });

  it('leaves the vault key and the database passwords in no result, output line or API answer', async () => {
    let seen = '';
    // Each job's answer (progress and its log lines included) and its results, as the API gives them.
    for (const id of jobIds) seen += JSON.stringify(await waitForJob(apiUrl, operator.token, id));
    const stored = await stack.pool.query(
      `SELECT coalesce(string_agg(concat_ws(' ', stdout, stderr, error_message), ' '), '') AS text FROM step_results`,
    );
    const lines = await stack.pool.query(`SELECT coalesce(string_agg(line, ' '), '') AS text FROM output_lines`);
    seen += stored.rows[0].text + lines.rows[0].text;
    expect(jobIds.length).toBeGreaterThan(10);
    for (const secret of secrets) expect(seen.includes(secret)).toBe(false);
    // Nothing was redacted either: the sandbox kept the secrets out of reach in the first place.
    expect(seen).not.toContain('[redacted]');
  });

  it('refuses to start with a vault key file that group or others may read', async () => {
    const open = path.join(path.dirname(stack.vaultKeyFile), 'open.pem');
    try {
      writeFileSync(open, vaultPem, { mode: 0o644 });
      await expect(stack.startExecutor({ OPSC_VAULT_KEY_FILE: open })).rejects.toThrow(/exited before/);
      const log = readFileSync(path.join(inject('logDir'), `${stack.namespace}-executor.log`), 'utf8');
      expect(log).toContain(`OPSC_VAULT_KEY_FILE: ${open} is open to group or others (mode 0644): chmod 600 it`);
    } finally {
      rmSync(open, { force: true });
    }
  });

  it('fails local commands closed, without retrying, when the sandbox cannot run', async () => {
    await executor.service.stop();
    const broken = await stack.startExecutor({ EXECUTOR_SANDBOX_USER: 'opsc-no-such-user' });
    const health = await requestJson<{ status: string; checks: Record<string, { ok: boolean; error?: string }> }>(
      `${broken.healthUrl}/health`,
    );
    expect(health.status).toBe(200);
    expect(health.body.checks.sandbox).toMatchObject({
      ok: false,
      error: expect.stringMatching(/opsc-no-such-user does not exist/),
    });
    const plan = {
      name: 'echo',
      steps: [
        { id: 'echo', name: 'Echo', action: { method: 'local-command', command: 'echo', args: ['ran unboxed'] } },
      ],
    };
    const created = await requestJson<ApiAnswer>(`${apiUrl}/api/jobs`, { token: operator.token, body: { plan } });
    const job = await waitForJob(apiUrl, operator.token, created.body.id);
    expect(job.status).toBe('failed');
    expect(job.results[0]).toMatchObject({
      status: 'failed',
      attempt: 1,
      stdout: '',
      error: { type: 'Unavailable', message: expect.stringMatching(/sandbox cannot run commands/) },
    });
  });
});
