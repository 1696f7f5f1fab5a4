import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { requestJson, waitForJob } from '../support/api.js';
import { control, submitDraft } from '../support/rollout.js';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.js';
import {
  launchChromium,
  openUserPage,
  reserveWebPort,
  screenshot,
  signIn,
  startTestWeb,
  until,
  TABLET,
  type RunningWeb,
  type UserPage,
} from '../support/web.js';

// The web app in a real browser (Debian's Chromium through playwright-core) against the whole
// system: Temporal, PostgreSQL, the orchestrator and executor workers, the API, the web server and
// a fleet of real sshd hosts. An operator plans the seed's Linux request in the chat, an approver
// approves it in a second browser, and the operator's monitor follows it live over SSE.
const PROD = [0, 1, 2, 3, 4];
/** Host 7 gives its user no sudo: its configuration backup (run as root) is refused there. */
const STAGING = [5, 6, 7];
const BROKEN = 7;
const PASSWORD = 'a long test password 1';
const REQUEST = "Update nginx to latest version on all web servers in 'Production Web' group and restart service";
const STAGING_REQUEST = "Update nginx to latest version on all web servers in 'Staging Web' group and restart service";

let h: SshHarness;
let web: RunningWeb;
let browser: Browser;
let operator: UserPage;
let approver: UserPage;
let executor: Awaited<ReturnType<SshHarness['stack']['startExecutor']>>;
const users = { operator: 'olga-operator', approver: 'alex-approver', admin: 'ada-admin' };
const tokens: Record<string, string> = {};
const pages: UserPage[] = [];

beforeAll(async () => {
  const webPort = await reserveWebPort();
  h = await startSshHarness('web-app', {
    orchestratorEnv: webPort.orchestratorEnv,
    size: 8,
    host: (i) => ({
      files: { '/etc/nginx/nginx.conf': `# ${i}\nworker_processes auto;\n` },
      ...(i === BROKEN && { sudo: 'none' as const }),
    }),
    groups: { 'Production Web': PROD, 'Staging Web': STAGING },
  });
  executor = await h.stack.startExecutor();
  for (const [role, username] of Object.entries(users))
    tokens[role] = (
      await h.stack.createUser(role as 'operator', { tenant: 'acme', username, password: PASSWORD })
    ).token;
  web = await startTestWeb(h.stack.namespace, h.orchestrator.apiUrl, webPort.port);
  h.base.onClose(() => web.service.stop(5_000));
  browser = await launchChromium();
  h.base.onClose(() => browser.close());
  operator = await openUserPage(browser, web.url);
  approver = await openUserPage(browser, web.url);
  pages.push(operator, approver);
}, 240_000);

afterAll(async () => {
  await h?.close();
});

const text = async (page: Page, testId: string) => (await page.getByTestId(testId).first().textContent()) ?? '';
const jobIdOf = (page: Page) => new URL(page.url()).pathname.split('/').at(-1) ?? '';
const outputLineCount = async (jobId: string) =>
  Number(
    (await h.stack.pool.query<{ n: string }>('SELECT count(*) AS n FROM output_lines WHERE job_id = $1', [jobId]))
      .rows[0]?.n,
  );

/** Watches the monitor until the job is final, recording what the page showed on the way. */
const watchToEnd = async (page: Page, timeoutMs = 150_000) => {
  const seen: { status: string; succeededCells: number; completed: number }[] = [];
  const final = await until(
    async () => {
      const status = (await page.getByTestId('job-monitor').getAttribute('data-status', { timeout: 5_000 })) ?? '';
      const succeededCells = await page.locator('[data-testid=target-grid] [data-cell=succeeded]').count();
      const completed = Number(
        (await page
          .getByTestId('target-counts')
          .getAttribute('data-completed', { timeout: 1_000 })
          .catch(() => null)) ?? -1,
      );
      const last = seen.at(-1);
      if (!last || last.status !== status || last.succeededCells !== succeededCells || last.completed !== completed)
        seen.push({ status, succeededCells, completed });
      return ['completed', 'failed', 'cancelled', 'rejected'].includes(status) ? status : undefined;
    },
    'the job to end on the monitor',
    timeoutMs,
    150,
  );
  return { final, seen };
};

describe('sign in', () => {
  it('refuses a wrong password, then signs in and shows role and tenant in the user menu', async () => {
    const { page } = operator;
    await page.goto('/');
    await page.waitForURL(/\/login/);
    await page.getByLabel('Tenant').fill('acme');
    await page.getByLabel('Username').fill(users.operator);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect
      .poll(() => page.getByTestId('login-error').textContent())
      .toMatch(/wrong tenant, username or password/);
    await signIn(page, 'acme', users.operator, PASSWORD);
    await page.getByTestId('user-menu').locator('summary').click();
    expect(await text(page, 'user-role')).toBe('operator');
    expect(await text(page, 'user-tenant')).toBe('acme');
    await page.keyboard.press('Escape');
    await page.getByTestId('user-menu').locator('summary').click();
    await signIn(approver.page, 'acme', users.approver, PASSWORD);
  });
});

describe('the seed Linux request, from the chat to a finished job', () => {
  let jobId = '';

  it('plans the request and answers as the seed does, naming the planner', async () => {
    const { page } = operator;
    await page.goto('/');
    await page.getByTestId('chat-empty').waitFor();
    await page.getByLabel('Request').fill(REQUEST);
    await page.getByLabel('Request').press('Enter');
    const card = page.getByTestId('plan-card').last();
    await card.getByTestId('plan-answer').waitFor({ timeout: 30_000 });
    expect(await text(page, 'planner')).toMatch(/Planner: built-in/);
    const answer = (await card.getByTestId('plan-answer').textContent()) ?? '';
    expect(answer).toMatch(/This will:/);
    expect(answer).toMatch(/nginx/);
    expect(await text(page, 'plan-targets')).toBe('5 (5 Linux)');
    expect(await card.getByTestId('risk').textContent()).toBe('risk: change');
    // The range the job will start with, and why it is only that sure (nothing has run on these hosts).
    expect(await text(page, 'plan-eta')).toMatch(/^\d+–\d+ (s|minutes)$/);
    expect(await text(page, 'plan-eta-why')).toMatch(/^\(low confidence: no history for 5 of 5 targets; .+\)$/);
    expect(answer).toMatch(/Would you like me to run it in check mode, or request approval\?/);
    await screenshot(page, '01-chat-answer');
  });

  it('shows the plan, marks a bad edit on its field, and takes the fixed plan', async () => {
    const { page } = operator;
    const card = page.getByTestId('plan-card').last();
    await card.getByRole('button', { name: 'Show plan' }).click();
    const editor = card.getByTestId('plan-editor');
    await editor.waitFor();
    // Every step of the seed's plan, with its tool, and the change steps' rollback.
    for (const tool of ['package-version', 'config-backup', 'package-update', 'service-restart', 'service-wait'])
      expect(await editor.textContent()).toContain(tool);
    expect(await editor.textContent()).toMatch(/Rollback: .+/);
    const restart = editor.locator('[data-testid^=step-]').filter({ hasText: 'service-restart' });
    const service = restart.locator('input[data-field$=".params.service"]');
    const field = (await service.getAttribute('data-field')) ?? '';
    // The plan is checked again by itself after an edit; the issue lands on the field it names.
    await service.fill('nginx; reboot');
    const error = card.locator(`[data-error-for="${field}"]`);
    await error.waitFor({ timeout: 15_000 });
    expect(await error.textContent()).toMatch(/\S/);
    expect(await service.getAttribute('aria-invalid')).toBe('true');
    expect(await card.getByRole('button', { name: 'Request approval' }).isDisabled()).toBe(true);
    await screenshot(page, '02-plan-validation-error');

    await service.fill('nginx');
    // One target at a time: 25 target-steps one after another, so the page's once-a-second progress snapshots show it grow.
    await editor.locator('input[data-field="policies.maxParallel"]').fill('1');
    await expect
      .poll(() => card.getByTestId('plan-message').textContent(), { timeout: 15_000 })
      .toMatch(/The plan validates/);
    expect(await service.getAttribute('aria-invalid')).toBe('false');
    await screenshot(page, '03-plan-expanded');
  });

  it('requests approval and lands on the monitor, waiting for an approver', async () => {
    const { page } = operator;
    await page.getByTestId('plan-card').last().getByRole('button', { name: 'Request approval' }).click();
    await page.waitForURL(/\/jobs\/job-/);
    jobId = jobIdOf(page);
    await expect
      .poll(() => page.getByTestId('job-monitor').getAttribute('data-status'), { timeout: 30_000 })
      .toBe('awaiting_approval');
    expect(await text(page, 'temporal-link')).toContain(jobId);
    const job = await h.stack.pool.query('SELECT requested_by, plan FROM jobs WHERE id = $1', [jobId]);
    expect(job.rows[0].requested_by).toBe(users.operator);
    expect(job.rows[0].plan.policies.maxParallel).toBe(1);
  });

  it('the approver approves in a second browser; the monitor follows the targets live to "completed"', async () => {
    const { page } = approver;
    await page.goto('/approvals');
    const card = page.locator(`[data-testid=approval][data-job="${jobId}"]`);
    await card.waitFor({ timeout: 15_000 });
    expect(await card.getByTestId('requester').textContent()).toBe(users.operator);
    const hash = (await h.stack.pool.query('SELECT plan_hash FROM jobs WHERE id = $1', [jobId])).rows[0]
      .plan_hash as string;
    await expect.poll(() => card.getByTestId('plan-hash').textContent()).toBe(hash);
    expect(await card.textContent()).toMatch(/risk: change/);
    await card.getByTestId('approval-comment').fill('change window CHG-1234');
    await screenshot(page, '04-approval-inbox');
    await card.getByRole('button', { name: 'Approve' }).click();
    await expect.poll(() => card.getByTestId('approval-result').textContent(), { timeout: 20_000 }).toMatch(/Approved/);
    await screenshot(page, '05-approved');

    const monitor = operator.page;
    const navigations: string[] = [];
    monitor.on('framenavigated', (frame) => navigations.push(frame.url()));
    let midRunShot = false;
    const watching = watchToEnd(monitor);
    // A screenshot once some targets are through and some are not.
    await until(
      async () => {
        const cells = await monitor.locator('[data-testid=target-grid] [data-cell=succeeded]').count();
        if (cells >= 3 && cells < 20 && !midRunShot) {
          midRunShot = true;
          await screenshot(monitor, '06-monitor-mid-run');
          return true;
        }
        return cells >= 25 ? true : undefined;
      },
      'the run to be under way',
      120_000,
      100,
    );
    const { final, seen } = await watching;
    expect(final).toBe('completed');
    expect(midRunShot).toBe(true);
    // Live: the page saw the job running and the succeeded cells grow step by step, without a reload.
    expect(seen.some((s) => s.status === 'running')).toBe(true);
    const growth = [...new Set(seen.map((s) => s.succeededCells))];
    expect(growth.length).toBeGreaterThanOrEqual(3);
    expect(growth.some((n) => n > 0 && n < 25)).toBe(true);
    expect(growth).toEqual([...growth].sort((a, b) => a - b));
    expect(navigations).toEqual([]);

    expect(await monitor.getByTestId('target-counts').getAttribute('data-completed')).toBe('5');
    expect(await monitor.getByTestId('target-counts').getAttribute('data-failed')).toBe('0');
    expect(await text(monitor, 'step-of')).toBe('Step 5 of 5');
    expect(await monitor.locator('[data-testid=step-list] li[data-status=succeeded]').count()).toBe(5);
    expect(await text(monitor, 'step-list')).toContain('(5/5 complete)');
    expect(await monitor.locator('[data-testid=target-grid] [data-cell=succeeded]').count()).toBe(25);
    expect(await text(monitor, 'approval-line')).toMatch(/approved by alex-approver .*change window CHG-1234/);
    // Every output line stored for the job reached the page once.
    await expect.poll(() => monitor.getByTestId('stream-state').textContent(), { timeout: 10_000 }).toBe('ended');
    expect(Number(await monitor.getByTestId('live-log').getAttribute('data-lines'))).toBe(await outputLineCount(jobId));
    await screenshot(monitor, '07-monitor-finished');
  });

  it("opens a target's full output from the grid, and filters the live log by target and step", async () => {
    const page = operator.page;
    const host = h.fleet.hosts[PROD[0]!]!.name;
    await page.locator(`[data-testid=target-grid] tr[data-target="${host}"] [data-cell]`).nth(2).click();
    const panel = page.getByTestId('target-output');
    await panel.waitFor();
    // The package update's output on that host: the version it moved to.
    await expect.poll(() => panel.locator('details[open]').textContent()).toMatch(/1\.24\.0-1/);
    const log = page.getByTestId('live-log');
    await page.getByTestId('log-target').selectOption(host);
    const targets = await log.locator('.log-target').allTextContents();
    expect(targets.length).toBeGreaterThan(0);
    expect(new Set(targets)).toEqual(new Set([`[${host}]`]));
    await page.getByTestId('log-step').selectOption('update');
    expect(new Set(await log.locator('.log-step').allTextContents())).toEqual(new Set(['update']));
  });

  it('a reload of a finished job shows the same state', async () => {
    const page = operator.page;
    await page.reload();
    await expect
      .poll(() => page.getByTestId('job-monitor').getAttribute('data-status'), { timeout: 15_000 })
      .toBe('completed');
    expect(await page.getByTestId('target-counts').getAttribute('data-completed')).toBe('5');
    await expect
      .poll(() => page.getByTestId('live-log').getAttribute('data-lines'), { timeout: 15_000 })
      .toBe(String(await outputLineCount(jobId)));
  });
});

describe('a target that fails, and an approval that is not allowed', () => {
  let jobId = '';

  it('refuses an approve by an operator, with the reason shown', async () => {
    const { page } = operator;
    await page.goto('/');
    await page.getByLabel('Request').fill(STAGING_REQUEST);
    await page.getByRole('button', { name: 'Plan', exact: true }).click();
    const card = page.getByTestId('plan-card').last();
    await card.getByTestId('plan-answer').waitFor({ timeout: 30_000 });
    await card.getByRole('button', { name: 'Show plan' }).click();
    // Go on past one failed target in three, so the others finish.
    await card.locator('input[data-field="policies.continueOnFailure"]').check();
    await card.locator('input[data-field="policies.maxFailPercentage"]').fill('50');
    await expect
      .poll(() => card.getByTestId('plan-message').textContent(), { timeout: 15_000 })
      .toMatch(/The plan validates/);
    expect(await card.getByTestId('plan-answer').textContent()).toMatch(
      /Continue with the other targets when one fails \(stop above 50% failed\)/,
    );
    await card.getByRole('button', { name: 'Request approval' }).click();
    await page.waitForURL(/\/jobs\/job-/);
    jobId = jobIdOf(page);

    await page.goto('/approvals');
    const own = page.locator(`[data-testid=approval][data-job="${jobId}"]`);
    await own.waitFor({ timeout: 15_000 });
    await own.getByRole('button', { name: 'Approve' }).click();
    await expect
      .poll(() => own.getByTestId('approval-result').textContent(), { timeout: 15_000 })
      .toMatch(/Refused: this needs the approver role; you are operator/);
    await screenshot(page, '08-approval-refused');
    const status = (await h.stack.pool.query('SELECT status FROM jobs WHERE id = $1', [jobId])).rows[0]
      .status as string;
    expect(['queued', 'awaiting_approval']).toContain(status);
  });

  it('shows the failed target as failed, with its output, and the others completed; a reload mid-run loses nothing', async () => {
    const monitor = operator.page;
    await monitor.goto(`/jobs/${jobId}`);
    // No executor while the job starts: its first step waits on the executor queue, so the job is
    // surely mid-run when the page reloads, however fast the hosts would have been.
    await executor.service.stop(5_000);
    const card = approver.page.locator(`[data-testid=approval][data-job="${jobId}"]`);
    await approver.page.goto('/approvals');
    await card.getByRole('button', { name: 'Approve' }).click();
    await expect.poll(() => card.getByTestId('approval-result').textContent(), { timeout: 20_000 }).toMatch(/Approved/);

    await expect
      .poll(() => monitor.getByTestId('job-monitor').getAttribute('data-status'), { timeout: 30_000 })
      .toBe('running');
    // Reload while it runs: the page rebuilds the same state from the API and resumes the stream.
    await monitor.reload();
    await expect
      .poll(() => monitor.getByTestId('job-monitor').getAttribute('data-status'), { timeout: 15_000 })
      .toBe('running');
    expect(await monitor.locator('[data-testid=target-grid] tr[data-target]').count()).toBe(STAGING.length);
    // A target's output opened while its first step waits: nothing stored yet; it fills in by itself once the step ran.
    const healthy = h.fleet.hosts[STAGING[0]!]!.name;
    await monitor.locator(`[data-testid=target-grid] tr[data-target="${healthy}"] [data-cell]`).first().click();
    const firstStep = monitor.getByTestId('target-output').locator('details.step-output').first();
    await expect.poll(() => firstStep.locator('summary').textContent(), { timeout: 15_000 }).toMatch(/running…/);
    expect(await firstStep.getByTestId('output-stdout').count()).toBe(0);
    executor = await h.stack.startExecutor();
    await expect.poll(() => firstStep.getByTestId('output-stdout').count(), { timeout: 60_000 }).toBe(1);
    await expect.poll(() => firstStep.locator('summary').textContent(), { timeout: 15_000 }).toMatch(/succeeded/);
    const { final } = await watchToEnd(monitor);
    await screenshot(monitor, '09-monitor-failed-target');
    expect(final).toBe('failed');
    const counts = monitor.getByTestId('target-counts');
    expect(await counts.getAttribute('data-completed')).toBe('2');
    expect(await counts.getAttribute('data-failed')).toBe('1');
    const broken = h.fleet.hosts[BROKEN]!.name;
    const row = monitor.locator(`[data-testid=target-grid] tr[data-target="${broken}"]`);
    expect(await row.getByTestId('target-state').textContent()).toMatch(/failed|rolled back/);
    const cells = await row.locator('[data-cell]').evaluateAll((els) => els.map((e) => e.getAttribute('data-cell')));
    // The version check went through; the backup failed, so the host was left out of the later steps.
    expect(cells).toEqual(['succeeded', 'failed', 'skipped', 'skipped', 'skipped']);
    await row.locator('[data-cell=failed]').click();
    const panel = monitor.getByTestId('target-output');
    await expect
      .poll(() => panel.locator('details[open]').textContent(), { timeout: 15_000 })
      .toMatch(new RegExp(`AuthFailed: sudo refused on ${broken}`));
    for (const i of STAGING.filter((x) => x !== BROKEN)) {
      expect(
        await monitor
          .locator(`[data-testid=target-grid] tr[data-target="${h.fleet.hosts[i]!.name}"] [data-testid=target-state]`)
          .textContent(),
      ).toBe('completed');
    }
    await expect.poll(() => monitor.getByTestId('stream-state').textContent(), { timeout: 10_000 }).toBe('ended');
    expect(Number(await monitor.getByTestId('live-log').getAttribute('data-lines'))).toBe(await outputLineCount(jobId));
    await screenshot(monitor, '09-monitor-failed-target-output');
    await monitor.setViewportSize(TABLET);
    await screenshot(monitor, '10-monitor-tablet');
  });
});

describe('check mode from the plan card', () => {
  it('runs the plan in check mode with no approval; the monitor shows "would change" per cell and nothing changed', async () => {
    const { page } = operator;
    await page.goto('/');
    await page.getByLabel('Request').fill(REQUEST);
    await page.getByLabel('Request').press('Enter');
    const card = page.getByTestId('plan-card').last();
    await card.getByTestId('plan-answer').waitFor({ timeout: 30_000 });
    expect(await card.getByTestId('plan-check-mode').textContent()).toMatch(/changing nothing and needing no approval/);
    // Offered before the request for approval.
    const buttons = await card.locator('.actions button').allTextContents();
    expect(buttons.indexOf('Run in check mode')).toBeLessThan(buttons.indexOf('Request approval'));
    const before = await Promise.all(
      PROD.map((i) => h.fleet.exec(i, 'dpkg-query -W nginx; systemctl is-active nginx')),
    );
    await card.getByTestId('run-check').click();
    await page.waitForURL(/\/jobs\/job-/);
    const jobId = jobIdOf(page);
    await expect
      .poll(() => page.getByTestId('job-monitor').getAttribute('data-status'), { timeout: 60_000 })
      .toBe('completed');
    expect(await text(page, 'job-mode')).toBe('check mode');
    await page.getByTestId('check-legend').waitFor();
    const wouldChange = page.locator('[data-testid=target-grid] [data-check=would-change]');
    await expect.poll(() => wouldChange.count(), { timeout: 15_000 }).toBeGreaterThan(0);
    expect(await wouldChange.first().getAttribute('aria-label')).toMatch(/: would change$/);
    await screenshot(page, '06-check-mode');
    const job = await h.stack.pool.query('SELECT mode, approval FROM jobs WHERE id = $1', [jobId]);
    expect(job.rows[0]).toMatchObject({ mode: 'check', approval: null });
    const after = await Promise.all(PROD.map((i) => h.fleet.exec(i, 'dpkg-query -W nginx; systemctl is-active nginx')));
    expect(after.map((r) => r.stdout)).toEqual(before.map((r) => r.stdout));
  });
});

describe('the live stream when the web server restarts mid-job', () => {
  it('reconnects by itself and shows every output line once', async () => {
    // Each host prints a line every 0.4 s for about 8 s.
    const script = 'for i in $(seq 1 20); do echo "tick $i of 20"; sleep 0.4; done';
    const created = await submitDraft(h.orchestrator.apiUrl, tokens.operator!, {
      name: 'ticks on the web servers',
      steps: [{ id: 'tick', tool: 'run-script', params: { script }, targets: { group: 'Production Web' } }],
      policies: { maxParallel: 5 },
    });
    await waitForJob(
      h.orchestrator.apiUrl,
      tokens.operator!,
      created.id,
      (j) => j.status === 'awaiting_approval',
      30_000,
    );
    const page = operator.page;
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(`/jobs/${created.id}`);
    await expect.poll(() => page.getByTestId('stream-state').textContent(), { timeout: 15_000 }).toBe('● live');
    expect(
      (await control(h.orchestrator.apiUrl, tokens.approver!, created.id, 'approve', { planHash: created.planHash }))
        .status,
    ).toBe(200);
    const navigations: string[] = [];
    page.on('framenavigated', (frame) => navigations.push(frame.url()));
    await until(
      async () => (Number(await page.getByTestId('live-log').getAttribute('data-lines')) >= 10 ? true : undefined),
      'the first lines',
      30_000,
    );

    // The web server goes away mid-job and comes back on the same address.
    const port = Number(new URL(web.url).port);
    const problemsBefore = pages.map((p) => p.problems.length);
    await web.service.stop(5_000);
    const states = new Set<string>();
    await until(
      async () => {
        states.add((await page.getByTestId('stream-state').textContent()) ?? '');
        return states.has('reconnecting') ? true : undefined;
      },
      'the page to notice',
      15_000,
      50,
    );
    web = await startTestWeb(h.stack.namespace, h.orchestrator.apiUrl, port);
    h.base.onClose(() => web.service.stop(5_000));
    await expect
      .poll(() => page.getByTestId('job-monitor').getAttribute('data-status'), { timeout: 60_000 })
      .toBe('completed');
    await expect.poll(() => page.getByTestId('stream-state').textContent(), { timeout: 15_000 }).toBe('ended');
    // While the server was away Chromium logged the refused and cut connections (this page's stream,
    // the approver's inbox polling); those, and only those, were expected.
    pages.forEach((p, i) => {
      const gap = p.problems.splice(problemsBefore[i] ?? 0);
      p.problems.push(
        ...gap.filter(
          (line) =>
            !/net::ERR_(CONNECTION_REFUSED|EMPTY_RESPONSE|INCOMPLETE_CHUNKED_ENCODING|CONNECTION_RESET)/.test(line),
        ),
      );
    });
    const stored = await outputLineCount(created.id);
    expect(stored).toBeGreaterThanOrEqual(100);
    expect(Number(await page.getByTestId('live-log').getAttribute('data-lines'))).toBe(stored);
    const ticks = await page
      .locator('[data-testid=live-log] .log-text')
      .filter({ hasText: /^tick \d+ of 20$/ })
      .allTextContents();
    expect(ticks).toHaveLength(100);
    expect(navigations).toEqual([]);
    const job = await requestJson<{ status: string }>(`${h.orchestrator.apiUrl}/api/jobs/${created.id}`, {
      token: tokens.operator!,
    });
    expect(job.body.status).toBe('completed');
  }, 120_000);
});

describe('pause, resume and cancel from the monitor', () => {
  it('pauses (nothing new starts), resumes, and cancels letting running steps finish', async () => {
    // One host at a time, each about 2 s: there is always something left to hold back.
    const script = 'for i in $(seq 1 5); do echo "step $i"; sleep 0.4; done';
    const created = await submitDraft(h.orchestrator.apiUrl, tokens.operator!, {
      name: 'slow ticks, one host at a time',
      steps: [{ id: 'tick', tool: 'run-script', params: { script }, targets: { group: 'Production Web' } }],
      policies: { maxParallel: 1 },
    });
    await waitForJob(
      h.orchestrator.apiUrl,
      tokens.operator!,
      created.id,
      (j) => j.status === 'awaiting_approval',
      30_000,
    );
    // The monitor is up and live before the approval, so the Pause lands early in the 10 s run.
    const page = operator.page;
    await page.goto(`/jobs/${created.id}`);
    await expect.poll(() => page.getByTestId('stream-state').textContent(), { timeout: 15_000 }).toBe('● live');
    expect(
      (await control(h.orchestrator.apiUrl, tokens.approver!, created.id, 'approve', { planHash: created.planHash }))
        .status,
    ).toBe(200);
    await expect
      .poll(() => page.getByTestId('job-monitor').getAttribute('data-status'), { timeout: 30_000 })
      .toBe('running');

    const controls = page.getByTestId('controls');
    await controls.getByRole('button', { name: 'Pause' }).click();
    await expect
      .poll(() => page.getByTestId('job-monitor').getAttribute('data-status'), { timeout: 15_000 })
      .toBe('paused');
    // Paused: the target in flight finishes, no other starts.
    await expect
      .poll(() => page.getByTestId('target-counts').getAttribute('data-running'), { timeout: 15_000 })
      .toBe('0');
    const held = await page.getByTestId('target-counts').getAttribute('data-completed');
    await new Promise((r) => setTimeout(r, 2_500));
    expect(await page.getByTestId('target-counts').getAttribute('data-completed')).toBe(held);
    expect(await page.getByTestId('target-counts').getAttribute('data-running')).toBe('0');
    await screenshot(page, '14-monitor-paused');

    await controls.getByRole('button', { name: 'Resume' }).click();
    await expect
      .poll(() => page.getByTestId('job-monitor').getAttribute('data-status'), { timeout: 15_000 })
      .toBe('running');
    await controls.getByRole('button', { name: 'Cancel…' }).click();
    await controls.getByRole('button', { name: 'Let running steps finish' }).click();
    await expect
      .poll(() => page.getByTestId('job-monitor').getAttribute('data-status'), { timeout: 60_000 })
      .toBe('cancelled');
    const completed = Number(await page.getByTestId('target-counts').getAttribute('data-completed'));
    expect(completed).toBeGreaterThanOrEqual(Number(held));
    expect(completed).toBeLessThan(5);
    const events = (
      await h.stack.pool.query<{ action: string; actor: string }>(
        `SELECT action, actor FROM audit_log WHERE job_id = $1 ORDER BY id`,
        [created.id],
      )
    ).rows;
    expect(events.filter((e) => e.actor === users.operator).map((e) => e.action)).toEqual(
      expect.arrayContaining(['job.pause', 'job.resume', 'job.cancel']),
    );
  }, 120_000);
});

describe('history, inventory and audit', () => {
  let admin: UserPage;
  beforeAll(async () => {
    admin = await openUserPage(browser, web.url);
    pages.push(admin);
    await signIn(admin.page, 'acme', users.admin, PASSWORD);
  });

  it('lists jobs with duration and outcome, filters them, and re-runs one', async () => {
    const { page } = admin;
    await page.goto('/jobs');
    const table = page.getByTestId('jobs-table');
    await table.waitFor();
    // The two jobs of this file that ran (its check-mode job changed nothing, and says so), and the
    // harness's own placeholder job of the tenant.
    const nginx = table.locator('tbody tr').filter({ hasText: 'nginx' });
    expect(await nginx.filter({ hasText: '(check mode)' }).count()).toBe(1);
    const rows = nginx.filter({ hasNotText: '(check mode)' });
    expect(await rows.count()).toBe(2);
    expect(await rows.filter({ hasText: 'Production Web' }).getByTestId('outcome').textContent()).toBe('5 ok');
    expect(await rows.filter({ hasText: 'Staging Web' }).getByTestId('outcome').textContent()).toMatch(
      /^2 ok · 1 failed/,
    );
    expect(await table.textContent()).toMatch(/\d+s/);
    await page.getByLabel('Status').selectOption('failed');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(() => table.locator('tbody tr').count()).toBe(1);
    expect(await table.textContent()).toMatch(/Staging Web/);
    await screenshot(page, '11-jobs-history');
    await table.getByRole('button', { name: 'Re-run' }).click();
    await page.waitForURL(/\/jobs\/job-/);
    await expect
      .poll(() => page.getByTestId('job-monitor').getAttribute('data-status'), { timeout: 30_000 })
      .toBe('awaiting_approval');
    expect(await text(page, 'job-name')).toMatch(/nginx/);
  });

  it('shows targets, the group tree and credentials by fingerprint only, and imports an Ansible inventory after a dry run', async () => {
    const { page } = admin;
    await page.goto('/inventory');
    const targets = page.getByTestId('targets-table');
    await targets.waitFor();
    expect(await targets.locator('tbody tr').count()).toBe(8);
    await page.getByRole('tab', { name: /Groups/ }).click();
    const tree = page.getByTestId('group-tree');
    expect(await tree.locator('[data-group]').count()).toBe(2);
    expect(await tree.locator('[data-group="Staging Web"]').textContent()).toContain(h.fleet.hosts[BROKEN]!.name);
    await page.getByRole('tab', { name: /Credentials/ }).click();
    const creds = page.getByTestId('credentials-table');
    await creds.waitFor();
    expect(await creds.getByTestId('fingerprint').count()).toBe(8);
    const html = await page.content();
    for (const host of h.fleet.hosts) expect(html).not.toContain(host.password);
    expect(html).not.toContain('PRIVATE KEY');

    await page.getByRole('tab', { name: /Ansible import/ }).click();
    await page
      .locator('textarea[name=import-content]')
      .fill('[lab]\nlab-01 ansible_host=127.0.0.90\nlab-02 ansible_host=127.0.0.91\n');
    expect(await page.getByRole('button', { name: 'Apply import' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Preview changes (dry run)' }).click();
    const diff = page.getByTestId('import-diff');
    await diff.waitFor();
    expect(await diff.textContent()).toMatch(/\+ lab-01/);
    expect(await diff.textContent()).toMatch(/\+ lab/);
    expect((await h.stack.pool.query(`SELECT count(*)::int AS n FROM targets WHERE name LIKE 'lab-%'`)).rows[0].n).toBe(
      0,
    );
    await screenshot(page, '12-inventory-import-dry-run');
    await page.getByRole('button', { name: 'Apply import' }).click();
    await expect.poll(() => page.getByTestId('import-result').textContent()).toMatch(/Imported: 2 targets created/);
    expect((await h.stack.pool.query(`SELECT count(*)::int AS n FROM targets WHERE name LIKE 'lab-%'`)).rows[0].n).toBe(
      2,
    );
  });

  it('shows the audit log to admins, filtered by action, and not to others', async () => {
    const { page } = admin;
    await page.goto('/audit');
    const table = page.getByTestId('audit-table');
    await table.waitFor();
    await page.getByLabel(/Action/).fill('job.');
    await page.getByRole('button', { name: 'Filter' }).click();
    // The unfiltered table already has job rows: wait for the filtered answer, only job actions.
    const actions = () =>
      table.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action') ?? ''));
    await expect
      .poll(async () => ((a) => a.length > 0 && a.every((x) => x.startsWith('job.')))(await actions()), {
        timeout: 15_000,
      })
      .toBe(true);
    expect(await actions()).toContain('job.submit');
    expect(await table.textContent()).toContain(users.approver);
    await screenshot(page, '13-audit-log');
    await operator.page.goto('/audit');
    await expect
      .poll(() => operator.page.locator('main').textContent())
      .toMatch(/The audit log is for admins; you are operator/);
  });

  it('manages users and tokens: own tokens shown once and revoked, roles, disable, delete, the last admin kept; the audit log pages back', async () => {
    const { page } = admin;
    await page.goto('/tokens');
    await page.getByLabel('Name').fill('laptop');
    await page.getByRole('button', { name: 'Create token' }).click();
    const secret = (await page.getByTestId('new-token-value').textContent()) ?? '';
    expect(secret).toMatch(/^opsc_/);
    expect((await requestJson(`${h.orchestrator.apiUrl}/api/auth/me`, { token: secret })).status).toBe(200);
    const mine = page.getByTestId('my-tokens-table');
    await mine.locator('tr[data-token=laptop]').getByRole('button', { name: 'Revoke' }).click();
    await expect.poll(() => mine.locator('tr[data-token=laptop]').getAttribute('data-state')).toBe('revoked');
    expect((await requestJson(`${h.orchestrator.apiUrl}/api/auth/me`, { token: secret })).status).toBe(401);
    expect(await page.content()).not.toContain(secret.slice(12));

    const temp = await h.stack.createUser('operator', { tenant: 'acme', username: 'tina-temp' });
    await page.goto('/users');
    const table = page.getByTestId('users-table');
    const row = (name: string) => table.locator(`tr[data-user="${name}"]`);
    await row('tina-temp').waitFor();
    await page.getByLabel('Role of tina-temp').selectOption('approver');
    await expect.poll(() => page.getByTestId('users-message').textContent()).toBe('tina-temp is now approver');
    expect((await h.stack.pool.query(`SELECT role FROM users WHERE username = 'tina-temp'`)).rows[0].role).toBe(
      'approver',
    );
    await row('tina-temp').getByRole('button', { name: 'Tokens' }).click();
    const theirs = page.getByTestId('user-tokens-table');
    await theirs.locator('tr[data-token=test]').getByRole('button', { name: 'Revoke' }).click();
    await expect.poll(() => theirs.locator('tr[data-token=test]').getAttribute('data-state')).toBe('revoked');
    expect((await requestJson(`${h.orchestrator.apiUrl}/api/auth/me`, { token: temp.token })).status).toBe(401);
    await row('tina-temp').getByRole('button', { name: 'Disable' }).click();
    await expect.poll(() => row('tina-temp').getAttribute('data-disabled')).toBe('true');
    // With the harness's admin made an operator, the tenant's only admin cannot disable themselves:
    // the page shows the API's reason.
    const other = h.base.admin.username;
    await page.getByLabel(`Role of ${other}`).selectOption('operator');
    await expect.poll(() => page.getByTestId('users-message').textContent()).toBe(`${other} is now operator`);
    await row(users.admin).getByRole('button', { name: 'Disable' }).click();
    await expect
      .poll(() => page.getByTestId('users-message').textContent())
      .toBe(`${users.admin} is the last enabled admin of the tenant; make another user admin first`);
    expect(await row(users.admin).getAttribute('data-disabled')).toBe('false');
    await screenshot(page, '15-users');
    await page.getByLabel(`Role of ${other}`).selectOption('admin');
    await expect.poll(() => page.getByTestId('users-message').textContent()).toBe(`${other} is now admin`);
    await row('tina-temp').getByRole('button', { name: 'Delete' }).click();
    await row('tina-temp').getByRole('button', { name: 'Confirm delete' }).click();
    await expect.poll(() => row('tina-temp').count()).toBe(0);

    // More entries than a page: "Older entries" continues exactly where the first page ended.
    const tenant = (await h.stack.pool.query<{ id: string }>(`SELECT id FROM tenants WHERE name = 'acme'`)).rows[0]!.id;
    await h.stack.pool.query(
      `INSERT INTO audit_log (tenant_id, actor, action, at) SELECT $1, 'bulk', 'test.bulk', now() - make_interval(secs => 3600 + g % 50) FROM generate_series(1, 150) AS g`,
      [tenant],
    );
    await page.goto('/audit');
    const audit = page.getByTestId('audit-table').locator('tbody tr');
    await expect.poll(() => audit.count()).toBe(100);
    await page.getByRole('button', { name: 'Older entries' }).click();
    await expect.poll(() => audit.count()).toBeGreaterThan(100);
    const shown = await audit.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')));
    const expected = (
      await h.stack.pool.query<{ id: string }>(
        `SELECT a.id::text AS id FROM audit_log a WHERE a.tenant_id = $1 ORDER BY a.at DESC, a.id DESC LIMIT $2`,
        [tenant, shown.length],
      )
    ).rows.map((r) => r.id);
    expect(shown).toEqual(expected);
  });

  it('printed no console errors and threw no exceptions in any page', () => {
    expect(pages.flatMap((p) => p.problems)).toEqual([]);
  });
});

describe('cross-site requests through the web server', () => {
  it("passes the browser's Origin to the API: a foreign page's form post with the session cookie is refused, the web app's own request is not", async () => {
    const login = await fetch(`${web.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: web.url },
      body: JSON.stringify({ tenant: 'acme', username: users.operator, password: PASSWORD }),
    });
    expect(login.status).toBe(200);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const post = (headers: Record<string, string>, body: string) =>
      fetch(`${web.url}/api/tokens`, { method: 'POST', headers: { cookie, ...headers }, body });
    const form = await post(
      { origin: 'https://evil.example.test', 'content-type': 'application/x-www-form-urlencoded' },
      'name=stolen',
    );
    expect(form.status).toBe(403);
    expect(((await form.json()) as { error: { message: string } }).error.message).toContain('evil.example.test');
    expect(
      (await post({ origin: 'https://evil.example.test', 'content-type': 'application/json' }, '{"name":"stolen"}'))
        .status,
    ).toBe(403);
    expect(
      (await post({ origin: web.url, 'content-type': 'application/json' }, '{"name":"from the web app"}')).status,
    ).toBe(201);
    const names = await h.stack.pool.query<{ name: string }>(
      `SELECT t.name FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE u.username = $1`,
      [users.operator],
    );
    expect(names.rows.map((r) => r.name)).not.toContain('stolen');
    expect(names.rows.map((r) => r.name)).toContain('from the web app');
  });
});
