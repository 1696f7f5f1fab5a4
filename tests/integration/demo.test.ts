import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import {
  ALREADY_STOPPED,
  DEMO_TENANT,
  DENY_COPY,
  LINUX_HOSTS,
  SAMPLE_ARTIFACT,
  sampleArtifactContent,
  SEED_REQUESTS,
  STATION_EXE,
  WINDOWS_HOSTS,
} from '@opsc/dev';
import { requestJson, type JobView } from '../support/api.js';
import {
  readDemoUsers,
  sshOnDemoHost,
  startDemo,
  tokenFor,
  windowsState,
  type DemoPorts,
  type DemoRun,
} from '../support/demo-process.js';
import { freePort } from '../support/free-port.js';
import { alive } from '../support/lines.js';
import { approveAndWait, proposeAndFill, submitDraft } from '../support/rollout.js';
import { registerTestSecrets } from '../support/secret-registry.js';
import { createTestStack, type TestStack } from '../support/stack.js';
import { launchChromium, openUserPage, screenshot, signIn, until } from '../support/web.js';

/**
 * `npm run demo` from a fresh data folder: the real `up.js --demo` starts the stack and the demo's
 * SSH and WinRM fleets, registers them through the API and makes two users. The seed requests are
 * then planned, submitted by one demo user and approved by the other, and each host's state is
 * read from the fleets. A second run reuses the users; a browser types a seed request into the chat.
 */
let stack: TestStack;
let dataDir: string;
let ports: DemoPorts;
let demo: DemoRun | undefined;
const announced = new Set<number>();
let users: ReturnType<typeof readDemoUsers>;
const tokens = { admin: '', approver: '' };

const byGroup = (hosts: typeof LINUX_HOSTS, group: string) => hosts.filter((h) => h.groups.includes(group));
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const winState = (name: string) => {
  const index = WINDOWS_HOSTS.findIndex((h) => h.name === name);
  const host = windowsState(dataDir).hosts[index];
  if (!host) throw new Error(`no Windows host ${name} in the state file`);
  return host;
};

const stopDemo = async () => {
  if (!demo) return;
  for (const pid of demo.pids) announced.add(pid);
  await demo.up.stop(60_000);
  demo = undefined;
};

beforeAll(async () => {
  stack = await createTestStack('demo');
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'opsc-demo-'));
  ports = { api: await freePort(), web: await freePort(), health: await freePort(), metrics: await freePort() };
  const started = Date.now();
  demo = await startDemo(stack, dataDir, ports, 'demo-1');
  console.info(`npm run demo, first run: ready in ${Date.now() - started} ms`);
  users = readDemoUsers(dataDir);
  registerTestSecrets(
    'the demo users',
    users.users.map((u) => u.password),
  );
  const [admin, approver] = users.users;
  tokens.admin = await tokenFor(demo.apiUrl, DEMO_TENANT, admin!.username, admin!.password);
  tokens.approver = await tokenFor(demo.apiUrl, DEMO_TENANT, approver!.username, approver!.password);
}, 420_000);

afterAll(async () => {
  await stopDemo();
  // Whatever `up` did not stop is stopped here, by the PIDs it announced.
  for (const pid of announced) if (alive(pid)) process.kill(pid, 'SIGTERM');
  await stack?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('npm run demo, first run', () => {
  it('prints one screen with the URLs, the users, where their passwords are and the seed requests, and no secret', () => {
    const text = demo!.lines.join('\n');
    expect(text).toContain(`[demo] Web app      ${demo!.webUrl}   (tenant ${DEMO_TENANT})`);
    expect(text).toMatch(/demo-admin \(admin\) asks; demo-approver \(approver\) approves/);
    expect(text).toContain(`passwords: ${path.join(dataDir, 'demo', 'users.json')} (mode 0600)`);
    expect(text).toMatch(/Four-eyes is on/);
    for (const seed of SEED_REQUESTS) expect(text).toContain(seed.request);
    for (const user of users.users) expect(text).not.toContain(user.password);
    expect(statSync(path.join(dataDir, 'demo', 'users.json')).mode & 0o777).toBe(0o600);
    expect(users.users.map((u) => [u.username, u.role])).toEqual([
      ['demo-admin', 'admin'],
      ['demo-approver', 'approver'],
    ]);
  });

  it('uploaded the sample artifact to the tenant artifact store', async () => {
    const artifact = sampleArtifactContent();
    expect(artifact.length).toBeGreaterThan(100_000);
    expect(demo!.lines.join('\n')).toContain(`sha256 ${sha256(artifact).slice(0, 16)}`);
    const listed = await requestJson<{ artifacts: { name: string; sha256: string }[] }>(
      `${demo!.apiUrl}/api/artifacts`,
      { token: tokens.admin },
    );
    expect(listed.body.artifacts).toContainEqual(
      expect.objectContaining({ name: SAMPLE_ARTIFACT, sha256: sha256(artifact) }),
    );
  });
});

describe('the three seed requests, planned, submitted by demo-admin and approved by demo-approver', () => {
  const run = async (request: string, fill?: (tool: string, param: string) => unknown): Promise<JobView> => {
    const proposal = await proposeAndFill(demo!.apiUrl, tokens.admin, request, fill);
    const created = await submitDraft(demo!.apiUrl, tokens.admin, proposal.draft);
    expect(created).toMatchObject({ approvalRequired: true, risk: 'change' });
    return approveAndWait(demo!.apiUrl, tokens.admin, tokens.approver, created, 240_000);
  };

  it("'CIS servers': copies the new exe where the host allows it; the two deny-copy hosts fail and are rolled back", async () => {
    const job = await run(SEED_REQUESTS[0]!.request, (tool, param) =>
      tool === 'file-copy' ? { source: SAMPLE_ARTIFACT, destination: STATION_EXE }[param] : undefined,
    );
    const cis = byGroup(WINDOWS_HOSTS, 'CIS servers');
    expect(job.status).toBe('failed');
    expect(job.outcome).toMatchObject({
      targets: { total: cis.length, completed: cis.length - 2, rolledBack: 2, rollbackFailed: 0 },
    });
    const artifact = sha256(sampleArtifactContent());
    const old = sha256(Buffer.from('stationcontroller 1.0 (build 118)\n'));
    await expect
      .poll(() =>
        cis.map((h) => [h.name, winState(h.name).services.stationcontroller, winState(h.name).files[STATION_EXE]]),
      )
      .toEqual(cis.map((h) => [h.name, 'Running', DENY_COPY.includes(h.name) ? old : artifact]));
    const copy = job.results.filter((r) => r.stepId === 'file-copy');
    for (const name of DENY_COPY)
      expect(copy.find((r) => r.target.name === name)?.error?.message).toMatch(/Access to the path .* is denied/);
    const stop = job.results.find((r) => r.stepId === 'stop' && r.target.name === ALREADY_STOPPED);
    expect(stop?.facts).toMatchObject({ before: 'Stopped' });
  }, 300_000);

  it("'Production Web': updates nginx on every web server and restarts it", async () => {
    const job = await run(SEED_REQUESTS[1]!.request);
    const web = byGroup(LINUX_HOSTS, 'Production Web');
    expect(job.status).toBe('completed');
    expect(job.targets.map((t) => t.name).sort()).toEqual(web.map((h) => h.name).sort());
    for (const host of web) {
      const out = await sshOnDemoHost(
        demo!.apiUrl,
        tokens.admin,
        dataDir,
        host.name,
        "dpkg-query -W -f='${Version}\\n' nginx; systemctl is-active nginx",
      );
      expect(out, host.name).toBe('1.24.0-1\nactive\n');
    }
  }, 300_000);

  it("'Data Processing': stops dataprocessor on its Linux hosts over SSH and its Windows hosts over WinRM", async () => {
    const job = await run(SEED_REQUESTS[2]!.request);
    expect(job.status).toBe('completed');
    for (const host of byGroup(LINUX_HOSTS, 'Data Processing'))
      expect(
        await sshOnDemoHost(
          demo!.apiUrl,
          tokens.admin,
          dataDir,
          host.name,
          'systemctl is-active dataprocessor || true',
        ),
      ).toBe('inactive\n');
    await expect
      .poll(() => byGroup(WINDOWS_HOSTS, 'Data Processing').map((h) => winState(h.name).services.dataprocessor))
      .toEqual(['Stopped', 'Stopped']);
  }, 300_000);
});

describe('the metrics of the stack `npm run up` started', () => {
  it("serves the orchestrator's and the executor's /metrics, each with the Temporal SDK's", async () => {
    expect(demo!.lines.join('\n')).toContain(`Metrics        http://127.0.0.1:${ports.metrics}/metrics (orchestrator)`);
    for (const url of [`http://127.0.0.1:${ports.metrics}/metrics`, `http://127.0.0.1:${ports.health}/metrics`]) {
      const text = await (await fetch(url)).text();
      expect(text, url).toMatch(
        /^opsc_jobs_finished_total\{status="completed"\} [1-9]|^opsc_executor_commands_total\{/m,
      );
      expect(text, url).toMatch(/^temporal_num_pollers\{/m);
    }
  });
});

describe('npm run demo, second run, and a seed request typed into the chat', () => {
  let browser: Browser | undefined;

  afterAll(async () => {
    await browser?.close();
  });

  it('stops the fleets with the stack, and a second run reuses the users and their passwords', async () => {
    const fleetPids = demo!.lines.flatMap((l) => /fleet pid (\d+)/g.exec(l)?.slice(1) ?? []).map(Number);
    expect(fleetPids).toHaveLength(2);
    await stopDemo();
    for (const pid of fleetPids) expect(alive(pid), `fleet pid ${pid}`).toBe(false);
    const before = JSON.stringify(users);
    demo = await startDemo(stack, dataDir, ports, 'demo-2');
    expect(JSON.stringify(readDemoUsers(dataDir))).toBe(before);
    expect(demo.lines.filter((l) => /created demo-/.test(l))).toEqual([]);
  }, 420_000);

  it('plans, approves and runs the Data Processing request from the chat, on the new fleets', async () => {
    // New fleets: the service the first run stopped runs again on every host.
    for (const host of byGroup(LINUX_HOSTS, 'Data Processing'))
      expect(
        await sshOnDemoHost(demo!.apiUrl, tokens.admin, dataDir, host.name, 'systemctl is-active dataprocessor'),
      ).toBe('active\n');
    expect(byGroup(WINDOWS_HOSTS, 'Data Processing').map((h) => winState(h.name).services.dataprocessor)).toEqual([
      'Running',
      'Running',
    ]);
    browser = await launchChromium();
    const [admin, approver] = users.users;
    const asker = await openUserPage(browser, demo!.webUrl);
    const checker = await openUserPage(browser, demo!.webUrl);
    await signIn(asker.page, DEMO_TENANT, admin!.username, admin!.password);
    await signIn(checker.page, DEMO_TENANT, approver!.username, approver!.password);

    const { page } = asker;
    await page.goto('/');
    await page.getByLabel('Request').fill(SEED_REQUESTS[2]!.request);
    await page.getByLabel('Request').press('Enter');
    const card = page.getByTestId('plan-card').last();
    await card.getByTestId('plan-answer').waitFor({ timeout: 30_000 });
    expect(await card.getByTestId('risk').textContent()).toBe('risk: change');
    await screenshot(page, 'demo-01-chat-answer');
    await card.getByRole('button', { name: 'Request approval' }).click();
    await page.waitForURL(/\/jobs\/job-/);
    const jobId = new URL(page.url()).pathname.split('/').at(-1) ?? '';

    await checker.page.goto('/approvals');
    const approval = checker.page.locator(`[data-testid=approval][data-job="${jobId}"]`);
    await approval.waitFor({ timeout: 30_000 });
    await approval.getByRole('button', { name: 'Approve' }).click();
    await expect
      .poll(() => approval.getByTestId('approval-result').textContent(), { timeout: 20_000 })
      .toMatch(/Approved/);

    const final = await until(
      async () => {
        const status = await page.getByTestId('job-monitor').getAttribute('data-status', { timeout: 5_000 });
        return status && ['completed', 'failed', 'cancelled', 'rejected'].includes(status) ? status : undefined;
      },
      'the job to end on the monitor',
      180_000,
      250,
    );
    await screenshot(page, 'demo-02-monitor');
    expect(final).toBe('completed');
    const hosts = byGroup([...LINUX_HOSTS, ...WINDOWS_HOSTS], 'Data Processing');
    expect(await page.getByTestId('target-counts').getAttribute('data-completed')).toBe(String(hosts.length));
    for (const host of byGroup(LINUX_HOSTS, 'Data Processing'))
      expect(
        await sshOnDemoHost(
          demo!.apiUrl,
          tokens.admin,
          dataDir,
          host.name,
          'systemctl is-active dataprocessor || true',
        ),
      ).toBe('inactive\n');
    await expect
      .poll(() => byGroup(WINDOWS_HOSTS, 'Data Processing').map((h) => winState(h.name).services.dataprocessor))
      .toEqual(['Stopped', 'Stopped']);
    expect([...asker.problems, ...checker.problems]).toEqual([]);
  }, 300_000);
});
