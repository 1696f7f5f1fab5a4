import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { allowEgress, eventually, requestJson, waitForJob } from '../support/api.js';
import { HttpReceiver, SmtpServer } from '../support/notify-receivers.js';
import { registerTestSecrets } from '../support/secret-registry.js';
import { createTestStack, type TestStack } from '../support/stack.js';
import {
  launchChromium,
  openUserPage,
  reserveWebPort,
  screenshot,
  signIn,
  startTestWeb,
  type RunningWeb,
  type UserPage,
} from '../support/web.js';

// The Notifications page in a real browser: an admin creates a webhook, a Slack and an e-mail
// channel, sends a test through each (delivered to receivers this test runs), chooses the events a
// channel hears, and a job's end then reaches it.
const PASSWORD = 'a long test password 1';
const SIGNING_SECRET = `sig-${randomBytes(16).toString('hex')}`;
const SLACK_PATH = `/services/T0002/B0002/${randomBytes(12).toString('hex')}`;
const SMTP_PASSWORD = `smtp-${randomBytes(12).toString('hex')}`;

let stack: TestStack;
let apiUrl: string;
let web: RunningWeb;
let browser: Browser;
let admin: UserPage;
let token: string;
let receiver: HttpReceiver;
let smtp: SmtpServer;

beforeAll(async () => {
  registerTestSecrets('the notification channels of web-notifications.test', [
    SIGNING_SECRET,
    SLACK_PATH.split('/').at(-1)!,
    SMTP_PASSWORD,
  ]);
  const webPort = await reserveWebPort();
  stack = await createTestStack('web-notify');
  apiUrl = (await stack.startOrchestrator(webPort.orchestratorEnv)).apiUrl;
  await stack.startExecutor();
  ({ token } = await stack.createUser('admin', { tenant: 'acme', username: 'ada-admin', password: PASSWORD }));
  receiver = await HttpReceiver.start(SIGNING_SECRET);
  smtp = await SmtpServer.start('notify', SMTP_PASSWORD);
  await allowEgress(apiUrl, token, [`127.0.0.1:${receiver.port}`, `127.0.0.1:${smtp.port}`]);
  web = await startTestWeb(stack.namespace, apiUrl, webPort.port);
  browser = await launchChromium();
  admin = await openUserPage(browser, web.url);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await web?.service.stop(5_000);
  await receiver?.down();
  await smtp?.stop();
  await stack?.close();
});

describe('the Notifications page', () => {
  it('creates each kind of channel, sends a test through each, and chooses the events a channel hears', async () => {
    const { page } = admin;
    await signIn(page, 'acme', 'ada-admin', PASSWORD);
    await page.getByRole('link', { name: 'Notifications' }).click();
    await page.waitForURL('**/notifications');
    const form = page.getByRole('form', { name: 'Create a channel' });
    const create = async (kind: string, fields: Record<string, string>) => {
      await form.locator('select[name="channel-kind"]').selectOption(kind);
      for (const [name, value] of Object.entries(fields)) await form.locator(`[name="channel-${name}"]`).fill(value);
      await form.getByRole('button', { name: 'Create channel' }).click();
      await expect
        .poll(() => page.getByTestId('notification-notice').textContent())
        .toContain(`Channel "${fields.name}" created`);
    };
    await create('webhook', { name: 'web', url: receiver.url('/hook'), secret: SIGNING_SECRET });
    await create('slack', { name: 'chat', url: receiver.url(SLACK_PATH) });
    // A field the API refuses is shown beside its input.
    await form.locator('select[name="channel-kind"]').selectOption('email');
    await form.locator('[name="channel-name"]').fill('mail');
    await form.locator('[name="channel-to"]').fill('not an address');
    await form.getByRole('button', { name: 'Create channel' }).click();
    await expect.poll(() => form.locator('.field-error').count()).toBeGreaterThan(0);
    await create('email', {
      name: 'mail',
      host: '127.0.0.1',
      port: String(smtp.port),
      username: 'notify',
      password: SMTP_PASSWORD,
      from: 'opsc@example.test',
      to: 'ops@example.test',
      caPem: smtp.caPem,
    });
    const table = page.getByTestId('channels-table');
    await expect.poll(() => table.locator('tbody tr').count()).toBe(3);
    // No secret on the page, ever.
    const html = await page.content();
    for (const secret of [SIGNING_SECRET, SLACK_PATH, SMTP_PASSWORD]) expect(html).not.toContain(secret);

    for (const name of ['web', 'chat', 'mail']) {
      await table.locator(`tr[data-channel="${name}"]`).getByRole('button', { name: 'Send test' }).click();
      await expect
        .poll(() => page.getByTestId('notification-notice').textContent(), { timeout: 30_000 })
        .toBe(`Test to "${name}": delivered`);
    }
    expect(receiver.answered.filter((r) => r.path === '/hook' && r.signed && r.body.event === 'test')).toHaveLength(1);
    expect(receiver.answered.filter((r) => r.path === SLACK_PATH)).toHaveLength(1);
    expect(smtp.mails.filter((m) => m.tls && m.user === 'notify')).toHaveLength(1);

    // The webhook hears "Finished": a job's end reaches it.
    const finished = table.locator('tr[data-channel="web"]').getByRole('checkbox', { name: 'web: Finished' });
    // The box follows the saved subscriptions: it turns on once the API has answered.
    await finished.click();
    await expect.poll(() => finished.isChecked()).toBe(true);
    await screenshot(page, 'notifications');
    const plan = {
      name: 'notify from the page',
      steps: [{ id: 'hi', name: 'hi', action: { method: 'local-command', command: 'echo', args: ['hi'] } }],
    };
    const { body } = await requestJson<{ id: string }>(`${apiUrl}/api/jobs`, { token, body: { plan } });
    await waitForJob(apiUrl, token, body.id);
    const eventId = `notify-${body.id}-finished-1`;
    await eventually(
      async () => (receiver.answered.some((r) => r.eventId === eventId && r.signed) ? true : undefined),
      60_000,
      'the job to notify the webhook',
    );
    expect(receiver.answered.filter((r) => r.path === SLACK_PATH)).toHaveLength(1);
    expect(admin.problems).toEqual([]);
  });
});
