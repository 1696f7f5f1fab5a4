import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { waitForJob } from '../support/api.js';
import { control, submitDraft, type Created } from '../support/rollout.js';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.js';
import {
  launchChromium,
  openUserPage,
  reserveWebPort,
  screenshot,
  signIn,
  startTestWeb,
  until,
  type RunningWeb,
  type UserPage,
} from '../support/web.js';

// "Retry failed targets (N)" in a real browser: on a failed job's page the button names the hosts
// that did not get through and the step each starts at; clicking it creates the linked job and
// opens it, and each job's page links to the other.
const PASSWORD = 'a long test password 1';
const FAULTED = 1;

let h: SshHarness;
let web: RunningWeb;
let browser: Browser;
let operator: UserPage;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  const webPort = await reserveWebPort();
  h = await startSshHarness('web-job-retry', {
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

const runToEnd = async (created: Pick<Created, 'id' | 'planHash'>) => {
  await waitForJob(h.orchestrator.apiUrl, tokens.operator!, created.id, (j) => j.status === 'awaiting_approval');
  expect(
    (await control(h.orchestrator.apiUrl, tokens.approver!, created.id, 'approve', { planHash: created.planHash }))
      .status,
  ).toBe(200);
  return waitForJob(h.orchestrator.apiUrl, tokens.operator!, created.id, undefined, 120_000);
};

describe('the job page', () => {
  it('retries the failed targets from the step they stopped at, opens the new job, and links both', async () => {
    expect((await h.fleet.exec(FAULTED, 'touch /tmp/fault')).code).toBe(0);
    const created = await submitDraft(h.orchestrator.apiUrl, tokens.operator!, {
      name: 'prepare and check',
      policies: { continueOnFailure: true, maxFailPercentage: 100 },
      steps: [
        {
          id: 'prep',
          tool: 'run-script',
          params: { script: 'echo prep >> /tmp/prep.count' },
          targets: { group: 'Fleet' },
        },
        { id: 'check', tool: 'run-script', params: { script: 'test ! -e /tmp/fault' }, targets: { group: 'Fleet' } },
      ],
    });
    const original = await runToEnd(created);
    expect(original.status).toBe('failed');
    expect((await h.fleet.exec(FAULTED, 'rm -f /tmp/fault')).code).toBe(0);

    const { page, problems } = operator;
    await signIn(page, 'acme', 'r-operator', PASSWORD);
    await page.goto(`/jobs/${original.id}`);
    const button = page.getByTestId('retry-button');
    await button.waitFor();
    expect(await button.textContent()).toBe('Retry failed targets (1)');
    const faulted = h.fleet.hosts[FAULTED]!.name;
    expect(await page.getByTestId('retry-targets').textContent()).toContain(
      `${faulted} from step 2 (${original.progress!.steps[1]!.name})`,
    );
    await screenshot(page, 'job-retry-offered');
    await button.click();
    const retryId = await until(async () => {
      const id = new URL(page.url()).pathname.split('/').at(-1) ?? '';
      return id !== original.id && id.startsWith('job-') ? id : undefined;
    }, 'the page to open the retry job');
    await page.getByTestId('retry-of').waitFor();
    expect(await page.getByTestId('retry-of-link').textContent()).toBe(original.id);

    const retried = await runToEnd({ id: retryId, planHash: original.planHash });
    expect(retried.status).toBe('completed');
    expect(retried.targets.map((t) => t.name)).toEqual([faulted]);
    // The prep step stands from the first job: shown done there, not run again.
    await page.reload();
    const cell = page.locator(`[data-testid=target-grid] tr[data-target="${faulted}"] [data-cell=doneBefore]`);
    await cell.waitFor();
    expect(await cell.getAttribute('title')).toContain(`done in job ${original.id}`);
    expect((await h.fleet.exec(FAULTED, 'wc -l < /tmp/prep.count')).stdout.trim()).toBe('1');
    await screenshot(page, 'job-retry-done');

    await page.getByTestId('retry-of-link').click();
    await page.getByTestId('retried-as').waitFor();
    expect(await page.getByTestId('retried-as-link').textContent()).toBe(retryId);
    // Retried already: no second button on the original.
    expect(await page.getByTestId('retry-button').count()).toBe(0);
    expect(problems).toEqual([]);
  }, 300_000);
});
