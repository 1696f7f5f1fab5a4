import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { waitForJob } from '../support/api.js';
import { control, submitDraft } from '../support/rollout.js';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.js';
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

// "Retry failed targets now (N)" in a real browser: while a job waits for a decision, the monitor
// offers it beside Continue and Roll back; clicking it runs the failed host's step again in the same
// job, and the grid shows that host's cell succeeded once the job completes.
const PASSWORD = 'a long test password 1';
const FAULTED = 1;

let h: SshHarness;
let web: RunningWeb;
let browser: Browser;
let operator: UserPage;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  const webPort = await reserveWebPort();
  h = await startSshHarness('web-retry-now', {
    orchestratorEnv: webPort.orchestratorEnv,
    size: 3,
    groups: { Fleet: [0, 1, 2] },
  });
  await h.stack.startExecutor();
  for (const role of ['operator', 'approver'] as const)
    tokens[role] = (
      await h.stack.createUser(role, { tenant: 'acme', username: `r-${role}`, password: PASSWORD })
    ).token;
  web = await startTestWeb(h.stack.namespace, h.orchestrator.apiUrl, webPort.port);
  h.base.onClose(() => web.service.stop(5_000));
  browser = await launchChromium();
  h.base.onClose(() => browser.close());
  operator = await openUserPage(browser, web.url);
}, 240_000);

afterAll(async () => {
  await h?.close();
});

describe('the job monitor', () => {
  it('offers "Retry failed targets now" while the job waits for a decision, and the retried host completes', async () => {
    const api = h.orchestrator.apiUrl;
    expect((await h.fleet.exec(FAULTED, 'touch /tmp/rn-fault')).code).toBe(0);
    const created = await submitDraft(api, tokens.operator!, {
      name: 'check then finish',
      policies: { continueOnFailure: false, onFailThreshold: 'ask', maxParallel: 3 },
      steps: [
        {
          id: 'check',
          tool: 'run-script',
          params: { script: 'echo check >> /tmp/rn-check.count; test ! -e /tmp/rn-fault' },
          targets: { group: 'Fleet' },
        },
        { id: 'finish', tool: 'run-script', params: { script: 'echo finish' }, targets: { group: 'Fleet' } },
      ],
    });
    await waitForJob(api, tokens.operator!, created.id, (j) => ['awaiting_approval', 'running'].includes(j.status));
    const first = await waitForJob(api, tokens.operator!, created.id, (j) => j.status !== 'running', 60_000);
    if (first.status === 'awaiting_approval')
      expect((await control(api, tokens.approver!, created.id, 'approve', { planHash: created.planHash })).status).toBe(
        200,
      );
    await waitForJob(api, tokens.operator!, created.id, (j) => j.status === 'awaiting_decision', 60_000);

    const { page, problems } = operator;
    await signIn(page, 'acme', 'r-operator', PASSWORD);
    await page.goto(`/jobs/${created.id}`);
    const button = page.getByTestId('retry-now-button');
    await button.waitFor();
    expect(await button.textContent()).toBe('Retry failed targets now (1)');
    // Beside the other two answers.
    await page.getByRole('button', { name: 'Continue anyway' }).waitFor();
    await page.getByRole('button', { name: 'Roll back' }).waitFor();
    await screenshot(page, 'job-retry-now-offered');

    expect((await h.fleet.exec(FAULTED, 'rm -f /tmp/rn-fault')).code).toBe(0);
    await button.click();
    await page.getByText('retrying 1 failed target(s)').waitFor();
    const done = await waitForJob(api, tokens.operator!, created.id, undefined, 120_000);
    expect(done.status).toBe('completed');
    const faulted = h.fleet.hosts[FAULTED]!.name;
    const cell = page.locator(`[data-testid=target-grid] tr[data-target="${faulted}"] [data-cell=succeeded]`);
    // Both steps' cells of the retried host turn succeeded as the live view catches up.
    await cell.nth(1).waitFor();
    expect(await cell.count()).toBe(2);
    expect((await h.fleet.exec(FAULTED, 'wc -l < /tmp/rn-check.count')).stdout.trim()).toBe('2');
    expect((await h.fleet.exec(0, 'wc -l < /tmp/rn-check.count')).stdout.trim()).toBe('1');
    expect(await page.getByTestId('retry-now-button').count()).toBe(0);
    await screenshot(page, 'job-retry-now-done');
    expect(problems).toEqual([]);
  }, 300_000);
});
