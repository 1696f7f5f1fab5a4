import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { requestJson, waitForJob } from '../support/api.js';
import { sha256Of } from '../support/artifacts.js';
import { control } from '../support/rollout.js';
import { registerTestSecrets } from '../support/secret-registry.js';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.js';
import {
  launchChromium,
  openUserPage,
  reserveWebPort,
  screenshot,
  signIn,
  startTestWeb,
  type RunningWeb,
} from '../support/web.js';

// The first ten minutes in a real browser (Debian's Chromium through playwright-core), against the
// real API, PostgreSQL, Temporal, executor and an sshd host: an operator uploads an artifact, chooses
// it in the plan editor and runs the copy; an admin creates an approver and resets their password.
const PASSWORD = 'a long test password 3';
const CONTENT = Buffer.concat([Buffer.from('version=2\n'), randomBytes(200_000)]);
const DEST = '/opt/app/app.conf';

let h: SshHarness;
let web: RunningWeb;
let browser: Browser;
let approver: { token: string };

beforeAll(async () => {
  const webPort = await reserveWebPort();
  h = await startSshHarness('web-artifacts', {
    size: 1,
    host: () => ({ files: { [DEST]: 'version=1\n' } }),
    groups: { Web: [0] },
    orchestratorEnv: webPort.orchestratorEnv,
  });
  await h.stack.startExecutor();
  await h.stack.createUser('operator', { tenant: 'acme', username: 'olga-operator', password: PASSWORD });
  await h.stack.createUser('admin', { tenant: 'acme', username: 'ada-admin', password: PASSWORD });
  approver = await h.stack.createUser('approver', { tenant: 'acme' });
  web = await startTestWeb(h.stack.namespace, h.orchestrator.apiUrl, webPort.port);
  h.base.onClose(() => web.service.stop(5_000));
  browser = await launchChromium();
  h.base.onClose(() => browser.close());
}, 240_000);

afterAll(async () => {
  await h?.close();
});

describe('artifacts in the browser', () => {
  it('uploads with its SHA-256 shown, is chosen in the plan editor, and the copy puts those bytes on the host', async () => {
    const { page, problems } = await openUserPage(browser, web.url);
    await signIn(page, 'acme', 'olga-operator', PASSWORD);
    await page.goto('/artifacts');
    await page.locator('input[type="file"]').setInputFiles({
      name: 'app.conf',
      mimeType: 'application/octet-stream',
      buffer: CONTENT,
    });
    await page.getByLabel('Name').fill('app/app.conf');
    await page.getByRole('button', { name: 'Upload' }).click();
    await expect
      .poll(() => page.getByTestId('artifacts-message').textContent(), { timeout: 30_000 })
      .toContain(sha256Of(CONTENT));
    const row = page.locator('[data-artifact="app/app.conf"]');
    expect(await row.getAttribute('data-sha256')).toBe(sha256Of(CONTENT));
    expect(await row.textContent()).toContain('195.3 KiB');
    await screenshot(page, 'artifacts-page');

    // A request naming a file nobody uploaded: the editor says so on the source and offers the uploads.
    await page.goto('/');
    await page.getByTestId('chat-empty').waitFor();
    await page.getByLabel('Request').fill(`copy build/app.conf to ${DEST} on the servers in 'Web'`);
    await page.getByLabel('Request').press('Enter');
    const card = page.getByTestId('plan-card').last();
    await card.waitFor({ timeout: 30_000 });
    const editor = card.getByTestId('plan-editor');
    if (!(await editor.isVisible())) await card.getByRole('button', { name: 'Show plan' }).click();
    const source = card.locator('[data-field="steps.0.params.source"]');
    await source.waitFor({ timeout: 15_000 });
    await expect
      .poll(() => card.locator('[data-error-for="steps.0.params.source"]').textContent(), { timeout: 15_000 })
      .toMatch(/no artifact named build\/app.conf is uploaded/);
    const listed = await requestJson<{ artifacts: { id: string; name: string }[] }>(
      `${h.orchestrator.apiUrl}/api/artifacts`,
      {
        token: h.admin.token,
      },
    );
    const uploaded = listed.body.artifacts.find((a) => a.name === 'app/app.conf');
    await source.selectOption(uploaded?.id ?? 'missing');
    await expect
      .poll(async () => `${await card.getAttribute('data-status')}/${await card.getAttribute('data-checking')}`, {
        timeout: 15_000,
      })
      .toBe('ready/false');
    await screenshot(page, 'artifact-chooser');
    await card.getByRole('button', { name: 'Request approval' }).click();
    await expect
      .poll(() => page.getByTestId('job-monitor').getAttribute('data-status'), { timeout: 30_000 })
      .toBe('awaiting_approval');
    const jobId = /\/jobs\/([^/?#]+)/.exec(page.url())?.[1] ?? '';
    const job = await requestJson<{
      planHash: string;
      plan: { steps: { action: { operation: { sha256?: string } } }[] };
    }>(`${h.orchestrator.apiUrl}/api/jobs/${jobId}`, { token: h.admin.token });
    expect(job.body.plan.steps[0]?.action.operation.sha256).toBe(sha256Of(CONTENT));
    expect(
      (await control(h.orchestrator.apiUrl, approver.token, jobId, 'approve', { planHash: job.body.planHash })).status,
    ).toBe(200);
    const done = await waitForJob(h.orchestrator.apiUrl, h.admin.token, jobId, undefined, 120_000);
    expect(done.status).toBe('completed');
    expect((await h.fleet.exec(0, `sha256sum ${DEST} | cut -d' ' -f1`)).stdout.trim()).toBe(sha256Of(CONTENT));
    expect(problems).toEqual([]);
  }, 240_000);
});

describe('users in the browser', () => {
  it('an admin creates an approver with a generated password, resets it, and the approver signs in with the new one', async () => {
    const { page, problems } = await openUserPage(browser, web.url);
    await signIn(page, 'acme', 'ada-admin', PASSWORD);
    await page.goto('/users');
    const form = page.getByRole('form', { name: 'New user' });
    await form.getByLabel('Username').fill('avery-approver');
    await form.getByLabel('Role').selectOption('approver');
    await form.getByLabel('Generate a password').check();
    await form.getByRole('button', { name: 'Create' }).click();
    const secret = page.getByTestId('once-secret-value');
    await secret.waitFor({ timeout: 15_000 });
    const first = (await secret.textContent()) ?? '';
    expect(first).toMatch(/^[A-Za-z0-9_-]{24}$/);
    await page.getByRole('button', { name: 'Done' }).click();
    const row = page.locator('[data-user="avery-approver"]');
    await row.waitFor();
    expect(await row.getByLabel('Role of avery-approver').inputValue()).toBe('approver');

    // It asks first: a reset ends the user's sessions.
    await row.getByRole('button', { name: 'Reset password' }).click();
    await row.getByRole('button', { name: 'Confirm reset' }).click();
    await expect.poll(() => secret.textContent(), { timeout: 15_000 }).not.toBe(first);
    const second = (await secret.textContent()) ?? '';
    // The run's secret scan then checks that no log, history or table holds either.
    registerTestSecrets('generated passwords', [first, second]);
    expect(second).toMatch(/^[A-Za-z0-9_-]{24}$/);
    await screenshot(page, 'users-reset');
    // The first password no longer signs in; the new one does, in a browser of the approver's own.
    const old = await requestJson(`${h.orchestrator.apiUrl}/api/auth/login`, {
      body: { tenant: 'acme', username: 'avery-approver', password: first },
    });
    expect(old.status).toBe(401);
    const approverPage = await openUserPage(browser, web.url);
    await signIn(approverPage.page, 'acme', 'avery-approver', second);
    await approverPage.page.getByTestId('user-menu').waitFor();
    expect(await approverPage.page.getByTestId('user-menu').textContent()).toContain('avery-approver');
    const audit = await h.stack.pool.query<{ action: string; details: Record<string, unknown> }>(
      "SELECT action, details FROM audit_log WHERE object_id = 'avery-approver' AND action LIKE 'user.%' ORDER BY id",
    );
    expect(audit.rows.map((r) => r.action)).toEqual(['user.create', 'user.password-reset']);
    expect(JSON.stringify(audit.rows)).not.toContain(first);
    expect(JSON.stringify(audit.rows)).not.toContain(second);
    expect([...problems, ...approverPage.problems]).toEqual([]);
  }, 120_000);
});
