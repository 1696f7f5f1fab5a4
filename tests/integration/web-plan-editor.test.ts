import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Locator, Page } from 'playwright-core';
import { requestJson } from '../support/api.js';
import { startHarnessBase, type HarnessBase } from '../support/harness.js';
import { registerTestSecrets } from '../support/secret-registry.js';
import {
  launchChromium,
  openUserPage,
  reserveWebPort,
  screenshot,
  signIn,
  startTestWeb,
  TABLET,
  type RunningWeb,
  type UserPage,
} from '../support/web.js';

// The plan editor in a real browser (Debian's Chromium through playwright-core) against the real
// API, validator, inventory, PostgreSQL and Temporal: targets edited per step or for every step at
// once, steps added, removed and reordered, every issue of the validator on the field it names, and
// the plan checked again after each edit. Nothing here runs on a host: a plan that changes things
// waits for an approval, so the targets need no sshd or WinRM behind them.
const PASSWORD = 'a long test password 2';
const SECRET = randomBytes(12).toString('hex');
const LINUX = ['lin-1', 'lin-2', 'lin-3'];
const WINDOWS = ['win-1', 'win-2'];
const GROUPS = {
  Web: ['lin-1', 'lin-2'],
  Spare: ['lin-3'],
  Mixed: ['lin-1', 'lin-3', 'win-1', 'win-2'],
  Gone: ['lin-2'],
};
const WEB_REQUEST = "Restart nginx on all servers in 'Web' group";
const DISK_REQUEST = "Check disk usage of / on the servers in 'Mixed'";

let base: HarnessBase;
let web: RunningWeb;
let browser: Browser;
let operator: UserPage;
let tablet: UserPage;
const username = 'oscar-operator';

beforeAll(async () => {
  const webPort = await reserveWebPort();
  base = await startHarnessBase('web-plan-editor', { orchestratorEnv: webPort.orchestratorEnv });
  registerTestSecrets('web-plan-editor credentials', [SECRET]);
  for (const [i, name] of [...LINUX, ...WINDOWS].entries()) {
    const linux = LINUX.includes(name);
    await base.addTarget(
      { name: `${name}-cred`, username: 'ops', secret: { kind: linux ? 'password' : 'winrm', password: SECRET } },
      {
        name,
        address: `127.0.0.${20 + i}`,
        os: linux ? 'linux' : 'windows',
        tags: linux ? ['web'] : ['windows'],
        services: [
          linux ? { protocol: 'ssh', credential: `${name}-cred` } : { protocol: 'winrm', credential: `${name}-cred` },
        ],
      },
    );
  }
  await base.addGroups(GROUPS);
  await base.stack.createUser('operator', { tenant: 'acme', username, password: PASSWORD });
  web = await startTestWeb(base.stack.namespace, base.orchestrator.apiUrl, webPort.port);
  base.onClose(() => web.service.stop(5_000));
  browser = await launchChromium();
  base.onClose(() => browser.close());
  operator = await openUserPage(browser, web.url);
  tablet = await openUserPage(browser, web.url, TABLET);
  await signIn(operator.page, 'acme', username, PASSWORD);
  await signIn(tablet.page, 'acme', username, PASSWORD);
}, 240_000);

afterAll(async () => {
  await base?.close();
});

// Checks run in the page (the tests compile without the DOM's types, so they are written as source).
/** Controls in `root` with no label (inputs, selects) or no name (buttons). */
const UNLABELLED = `(root) => [...root.querySelectorAll('input, select, textarea, button')]
  .filter((el) => el.tagName === 'BUTTON'
    ? !(el.getAttribute('aria-label') || el.textContent.trim())
    : !(el.labels && el.labels.length > 0) && !el.getAttribute('aria-label'))
  .map((el) => el.outerHTML.slice(0, 120))`;
/** aria-describedby ids in `root` that name no element with text. */
const DANGLING_DESCRIPTIONS = `(root) => [...root.querySelectorAll('[aria-describedby]')].flatMap((el) =>
  el.getAttribute('aria-describedby').split(' ').filter((id) => !document.getElementById(id)?.textContent?.trim()))`;

/** Plans `request` in the chat and opens the plan's editor. */
const planAndOpen = async (page: Page, request: string) => {
  await page.goto('/');
  await page.getByTestId('chat-empty').waitFor();
  await page.getByLabel('Request').fill(request);
  await page.getByLabel('Request').press('Enter');
  const card = page.getByTestId('plan-card').last();
  await card.waitFor({ timeout: 30_000 });
  const editor = card.getByTestId('plan-editor');
  if (!(await editor.isVisible())) await card.getByRole('button', { name: 'Show plan' }).click();
  await editor.waitFor();
  return { card, editor };
};

/** The card once the check of the last edit answered: its status. */
const settled = async (card: Locator, status: 'ready' | 'invalid' | 'needs-input') => {
  await expect
    .poll(async () => `${await card.getAttribute('data-status')}/${await card.getAttribute('data-checking')}`, {
      timeout: 15_000,
    })
    .toBe(`${status}/false`);
};

const field = (card: Locator, key: string) => card.locator(`[data-field="${key}"]`);
const errorOf = (card: Locator, key: string) => card.locator(`[data-error-for="${key}"]`);

/** The control for `key` shows `pattern` as its error, tied to it with aria-describedby and aria-invalid. */
const expectFieldError = async (card: Locator, key: string, pattern: RegExp) => {
  const error = errorOf(card, key);
  await error.waitFor({ timeout: 15_000 });
  expect(await error.textContent()).toMatch(pattern);
  const control = field(card, key).first();
  expect(await control.getAttribute('aria-invalid')).toBe('true');
  expect((await control.getAttribute('aria-describedby')) ?? '').toContain((await error.getAttribute('id')) ?? '-');
};

const runButton = (card: Locator) => card.getByTestId('run-plan');
const shownHash = async (card: Locator) => (await card.getByTestId('plan-hash').getAttribute('title')) ?? '';
const stepIds = (editor: Locator) =>
  editor.locator('li.step-edit').evaluateAll((items) => items.map((li) => li.getAttribute('data-testid')));

/** The job a click on the run button made, with the plan it stored. */
const submit = async (page: Page, card: Locator) => {
  await runButton(card).click();
  await page.waitForURL(/\/jobs\/job-/, { timeout: 30_000 });
  const jobId = new URL(page.url()).pathname.split('/').at(-1) ?? '';
  const { rows } = await base.stack.pool.query<{ plan: { steps: { id: string }[] }; plan_hash: string }>(
    'SELECT plan, plan_hash FROM jobs WHERE id = $1',
    [jobId],
  );
  return rows[0];
};

describe('targets', () => {
  it('edits the targets of every step at once: a valid group makes the plan ready, with the edited plan hash', async () => {
    const { card, editor } = await planAndOpen(operator.page, WEB_REQUEST);
    await settled(card, 'ready');
    expect(await editor.getByLabel('The same targets for every step').isChecked()).toBe(true);
    expect(await field(card, 'all.targets.group').inputValue()).toBe('Web');
    expect(await card.getByTestId('plan-targets').textContent()).toBe('2 (2 Linux)');
    const before = await shownHash(card);
    expect(before).toMatch(/^[0-9a-f]{64}$/);

    await field(card, 'all.targets.group').selectOption('Spare');
    await settled(card, 'ready');
    expect(await card.getByTestId('plan-targets').textContent()).toBe('1 (1 Linux)');
    const after = await shownHash(card);
    expect(after).toMatch(/^[0-9a-f]{64}$/);
    expect(after).not.toBe(before);
    expect(await runButton(card).isEnabled()).toBe(true);
    expect(await runButton(card).textContent()).toBe('Request approval');
  });

  it('shows an unknown group on the group field (shared, then per step), never "marked below" with nothing marked', async () => {
    const { page } = operator;
    const { card, editor } = await planAndOpen(page, WEB_REQUEST);
    await settled(card, 'ready');
    // The page read the inventory with the plan; an admin deletes the group since.
    const deleted = await requestJson(`${base.orchestrator.apiUrl}/api/inventory/groups/Gone`, {
      method: 'DELETE',
      token: base.admin.token,
    });
    expect(deleted.status).toBe(204);

    await field(card, 'all.targets.group').selectOption('Gone');
    await settled(card, 'invalid');
    await expectFieldError(card, 'all.targets.group', /no such group/);
    expect(await errorOf(card, 'all.targets.group').textContent()).toBe('no such group');
    expect(await card.getByTestId('plan-issues-summary').textContent()).toMatch(/1 issue is shown on its field/);
    expect(await card.textContent()).not.toMatch(/marked below/);
    expect(await card.getByTestId('plan-issues').count()).toBe(0);
    expect(await runButton(card).isDisabled()).toBe(true);
    await screenshot(page, 'editor-01-unknown-group');

    // Each step its own targets: the issue is on the step's own group field.
    await editor.getByLabel('The same targets for every step').uncheck();
    await expectFieldError(card, 'steps.1.targets.group', /no such group/);
    await field(card, 'steps.0.targets.group').selectOption('Web');
    await settled(card, 'invalid');
    expect(await errorOf(card, 'steps.0.targets.group').count()).toBe(0);
    await expectFieldError(card, 'steps.1.targets.group', /no such group/);
    await field(card, 'steps.1.targets.group').selectOption('Web');
    await settled(card, 'ready');
    expect(await errorOf(card, 'steps.1.targets.group').count()).toBe(0);
    expect(await field(card, 'steps.1.targets.group').getAttribute('aria-invalid')).toBe('false');
    expect(await runButton(card).isEnabled()).toBe(true);
  });

  it('edits target names, each checked against the inventory', async () => {
    const { card } = await planAndOpen(operator.page, WEB_REQUEST);
    await settled(card, 'ready');
    await field(card, 'all.targets.group').selectOption('');
    await field(card, 'all.targets.targets').fill('lin-1, nosuch');
    await settled(card, 'invalid');
    await expectFieldError(card, 'all.targets.targets', /no target named "nosuch"/);

    await field(card, 'all.targets.targets').fill('lin-1, lin-3');
    await settled(card, 'ready');
    expect(await errorOf(card, 'all.targets.targets').count()).toBe(0);
    expect(await card.getByTestId('plan-targets').textContent()).toBe('2 (2 Linux)');
    expect(await card.getByTestId('plan-answer').textContent()).toMatch(/lin-1, lin-3/);
  });

  it('filters by tags: an unknown tag is named on the tags field, a known one narrows the group', async () => {
    const { card } = await planAndOpen(operator.page, WEB_REQUEST);
    await settled(card, 'ready');
    await field(card, 'all.targets.group').selectOption('Mixed');
    await field(card, 'all.targets.tags').fill('nosuch');
    await settled(card, 'invalid');
    // The validator finds no targets (on the targets as a whole); the editor names the tag no target has.
    await expectFieldError(card, 'all.targets', /selects no targets/);
    await expectFieldError(card, 'all.targets.tags', /no target has the tag nosuch/);

    await field(card, 'all.targets.tags').fill('web');
    await settled(card, 'ready');
    expect(await card.getByTestId('plan-targets').textContent()).toBe('2 (2 Linux)');
    expect(await errorOf(card, 'all.targets.tags').count()).toBe(0);
  });

  it('changes the OS filter: a Linux-only tool over a mixed group is refused on the targets, and ready on Linux', async () => {
    const { card } = await planAndOpen(operator.page, DISK_REQUEST);
    await field(card, 'steps.0.targets.os').selectOption('');
    await settled(card, 'invalid');
    await expectFieldError(card, 'steps.0.targets', /win-1|windows/i);

    await field(card, 'steps.0.targets.os').selectOption('linux');
    await settled(card, 'ready');
    expect(await card.getByTestId('plan-targets').textContent()).toBe('2 (2 Linux)');
    expect(await field(card, 'steps.0.targets').getAttribute('aria-invalid')).toBe('false');
    expect(await runButton(card).textContent()).toBe('Run');
  });
});

describe('steps', () => {
  it("adds a step from the catalog, its parameters from the tool's schema, and asks for the required one on its field", async () => {
    const { card, editor } = await planAndOpen(operator.page, WEB_REQUEST);
    await settled(card, 'ready');
    await editor.getByLabel('Tool for a new step').selectOption('service-stop');
    await editor.getByRole('button', { name: 'Add step' }).click();
    const added = editor.getByTestId('step-service-stop');
    await added.waitFor();
    expect(await stepIds(editor)).toEqual(['step-restart', 'step-verify', 'step-service-stop']);
    // Focus moves to the new step; its parameters are the tool's, its targets the plan's.
    expect(await operator.page.evaluate(`document.activeElement?.getAttribute('data-step-heading')`)).toBe(
      'service-stop',
    );
    expect(await added.getByLabel(/^service/).count()).toBe(1);
    expect(await added.getByLabel(/^timeoutSeconds/).getAttribute('placeholder')).toBe('default 30');
    expect(await added.textContent()).toContain("the plan's targets");
    await settled(card, 'needs-input');
    await expectFieldError(card, 'steps.2.params.service', /service-stop needs service/);
    expect(await runButton(card).isDisabled()).toBe(true);

    await added.getByLabel(/^service/).fill('nginx');
    await settled(card, 'ready');
    expect(await errorOf(card, 'steps.2.params.service').count()).toBe(0);
    expect(await card.getByTestId('plan-answer').textContent()).toMatch(/stop/i);
  });

  it('shows a parameter the validator refuses on that parameter, and nowhere else', async () => {
    const { card } = await planAndOpen(operator.page, WEB_REQUEST);
    await settled(card, 'ready');
    await field(card, 'steps.0.params.service').fill('nginx; reboot');
    await settled(card, 'invalid');
    await expectFieldError(card, 'steps.0.params.service', /\S/);
    expect(await card.getByTestId('plan-issues').count()).toBe(0);
    expect(await card.textContent()).not.toMatch(/marked below/);
    await field(card, 'steps.0.params.service').fill('nginx');
    await settled(card, 'ready');
  });

  it('removes a step; the submitted plan has no such step', async () => {
    const { page } = operator;
    const { card, editor } = await planAndOpen(page, WEB_REQUEST);
    await settled(card, 'ready');
    await editor.getByRole('button', { name: 'Remove step 2 (verify)' }).click();
    expect(await stepIds(editor)).toEqual(['step-restart']);
    await settled(card, 'ready');
    const hash = await shownHash(card);
    const job = await submit(page, card);
    expect(job?.plan.steps.map((s) => s.id)).not.toContain('verify');
    expect(job?.plan.steps.map((s) => s.id)).toContain('restart');
    expect(job?.plan_hash).toBe(hash);
  });

  it('reorders steps with the keyboard; the submitted plan has the new order and the hash shown', async () => {
    const { page } = operator;
    const { card, editor } = await planAndOpen(page, WEB_REQUEST);
    await settled(card, 'ready');
    const before = await shownHash(card);
    await editor.getByRole('button', { name: 'Move step 2 (verify) up' }).focus();
    await page.keyboard.press('Enter');
    expect(await stepIds(editor)).toEqual(['step-verify', 'step-restart']);
    // Focus stays with the moved step: on its other button, since it cannot go further up.
    expect(await page.evaluate(`document.activeElement?.getAttribute('data-move')`)).toBe('verify:down');
    await settled(card, 'ready');
    const hash = await shownHash(card);
    expect(hash).not.toBe(before);
    const job = await submit(page, card);
    const ids = job?.plan.steps.map((s) => s.id) ?? [];
    expect(ids.indexOf('verify')).toBeGreaterThanOrEqual(0);
    expect(ids.indexOf('verify')).toBeLessThan(ids.indexOf('restart'));
    expect(job?.plan_hash).toBe(hash);
  });
});

describe('accessibility', () => {
  it('at 820 px: no horizontal scroll, a label on every control, every description pointing at a shown text', async () => {
    const { page } = tablet;
    const { card, editor } = await planAndOpen(page, WEB_REQUEST);
    await settled(card, 'ready');
    await editor.getByLabel('The same targets for every step').uncheck();
    await editor.getByLabel('Tool for a new step').selectOption('service-stop');
    await editor.getByRole('button', { name: 'Add step' }).click();
    await expectFieldError(card, 'steps.2.params.service', /service-stop needs service/);
    await screenshot(page, 'editor-02-tablet');
    expect(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')).toBe(0);
    const lastCard = `[...document.querySelectorAll('[data-testid=plan-card]')].at(-1)`;
    const unlabelled = await page.evaluate(`(${UNLABELLED})(${lastCard})`);
    expect(unlabelled).toEqual([]);
    const dangling = await page.evaluate(`(${DANGLING_DESCRIPTIONS})(${lastCard})`);
    expect(dangling).toEqual([]);
  });

  it('printed no console errors and threw no exceptions in any page', () => {
    expect([...operator.problems, ...tablet.problems]).toEqual([]);
  });
});
