import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { dataprocessorWindowsHost } from '@opsc/dev';
import { startWinrmFleet, type WinrmFleet } from '@opsc/testkit';
import { requestJson, waitForJob } from '../support/api.js';
import { control, submitDraft, type Created } from '../support/rollout.js';
import { registerWinrmHosts } from '../support/winrm-harness.js';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.js';
import { openHarnessWeb, reserveWebPort, screenshot, signIn, until, TABLET, type UserPage } from '../support/web.js';

// The job monitor tells the truth, compared point by point with the seed's LIVE PROGRESS MONITOR:
// the run's start is after the approval and its duration is the jobs list's; the counts are the
// current step's; "cancelling" and "rolling back" go once the job is over; a mixed group's Linux
// and Windows variants are one step; nothing overflows a tablet; the heading is a short title.
// Real Chromium, orchestrator, Temporal, PostgreSQL, sshd hosts and WinRM hosts.
const WEB = [0, 1, 2];
const PASSWORD = 'a long test password 1';
/** A target name with no place to break it, and a step name of 200 characters, one word. */
const LONG_TARGET = 'frankfurt_datacenter_rack_17_application_server_primary_database_replica_0001_of_the_cluster';
const LONG_STEP = `Run_${'the_nightly_consistency_check_of_every_application_server_'.repeat(4)}`.slice(0, 200);
const REQUEST = "Update nginx to latest version on all web servers in 'Web' group and restart service";

let h: SshHarness;
let win: WinrmFleet;
let viewer: UserPage;
let tokens: Record<string, string>;

beforeAll(async () => {
  const webPort = await reserveWebPort();
  h = await startSshHarness('web-monitor', {
    orchestratorEnv: webPort.orchestratorEnv,
    size: WEB.length,
    host: (i) => ({
      services: { dataprocessor: 'active', nginx: 'active' },
      files: { '/etc/nginx/nginx.conf': `# ${i}\nworker_processes auto;\n` },
    }),
    groups: { Web: WEB },
  });
  win = await startWinrmFleet({
    size: 2,
    firstOctet: 64,
    host: dataprocessorWindowsHost,
  });
  h.base.onClose(() => win.stop());
  await registerWinrmHosts(h.orchestrator.apiUrl, h.admin.token, win, 'web-monitor');
  const host = h.fleet.hosts[2]!;
  await h.base.addTarget(
    {
      name: 'long-name-key',
      username: host.username,
      secret: { kind: 'ssh-key', privateKey: h.fleet.clientKey.privateKey },
    },
    {
      name: LONG_TARGET,
      address: host.address,
      os: 'linux',
      services: [{ protocol: 'ssh', port: host.port, credential: 'long-name-key' }],
    },
  );
  await h.base.addGroups({
    'Data Processing': [h.fleet.hosts[0]!.name, h.fleet.hosts[1]!.name, ...win.hosts.map((w) => w.name)],
  });
  await h.stack.startExecutor();
  ({ user: viewer, tokens } = await openHarnessWeb(h, webPort.port, {
    roles: ['operator', 'approver', 'admin'],
    prefix: 'monitor',
    password: PASSWORD,
  }));
  await signIn(viewer.page, 'acme', 'monitor-admin', PASSWORD);
}, 300_000);

afterAll(async () => {
  await h?.close();
});

const api = {
  submit: (draft: unknown) => submitDraft(h.orchestrator.apiUrl, tokens.operator!, draft),
  approve: async (created: Created) => {
    await waitForJob(h.orchestrator.apiUrl, tokens.operator!, created.id, (j) => j.status === 'awaiting_approval');
    const res = await control(h.orchestrator.apiUrl, tokens.approver!, created.id, 'approve', {
      planHash: created.planHash,
    });
    expect(res.status).toBe(200);
  },
};

const statusOf = (page: Page) => page.getByTestId('job-monitor').getAttribute('data-status', { timeout: 5_000 });
const attr = (page: Page, testId: string, name: string) =>
  page
    .getByTestId(testId)
    .first()
    .getAttribute(name, { timeout: 2_000 })
    .catch(() => null);
const waitFinal = (page: Page, timeoutMs = 120_000) =>
  until(
    async () => {
      const s = (await statusOf(page)) ?? '';
      return ['completed', 'failed', 'cancelled', 'rejected'].includes(s) ? s : undefined;
    },
    'the job to end on the monitor',
    timeoutMs,
    150,
  );
const openLive = async (page: Page, jobId: string) => {
  await page.goto(`/jobs/${jobId}`);
  await expect.poll(() => page.getByTestId('stream-state').textContent(), { timeout: 15_000 }).toBe('● live');
};
const script = (text: string, name?: string) => ({
  tool: 'run-script',
  params: { script: text },
  targets: { group: 'Web' },
  ...(name && { name }),
});

describe('times and counts', () => {
  it("shows the run's start after the approval, and the jobs list's duration; counts the current step while it runs", async () => {
    const page = viewer.page;
    await page.setViewportSize({ width: 1440, height: 900 });
    // Three steps of about 3 s each (one target at a time, 1 s a target).
    const created = await api.submit({
      name: 'three slow steps',
      steps: ['one', 'two', 'three'].map((id) => ({ id, ...script('sleep 1; echo done') })),
      policies: { maxParallel: 1 },
    });
    await openLive(page, created.id);
    await expect.poll(() => statusOf(page)).toBe('awaiting_approval');
    expect(await page.getByTestId('started-at').textContent()).toBe('not yet');
    const createdAt = (
      (await h.stack.pool.query('SELECT created_at FROM jobs WHERE id = $1', [created.id])).rows[0].created_at as Date
    ).getTime();
    // The subject is the approval's wait: the approver takes a few seconds.
    await until(async () => (Date.now() - createdAt >= 3_000 ? true : undefined), 'an approval wait of 3 s', 10_000);
    await api.approve(created);

    const seen: { stepOf: string; scope: string; completed: number; total: number; whole: number }[] = [];
    const final = await until(
      async () => {
        const s = (await statusOf(page)) ?? '';
        if (s === 'running') {
          const entry = {
            stepOf: (await page.getByTestId('step-of').textContent()) ?? '',
            scope: (await attr(page, 'target-counts', 'data-scope')) ?? '',
            completed: Number(await attr(page, 'target-counts', 'data-completed')),
            total: Number(await attr(page, 'target-counts', 'data-total')),
            whole: Number((await attr(page, 'job-counts', 'data-completed')) ?? -1),
          };
          const last = seen.at(-1);
          if (!last || JSON.stringify(last) !== JSON.stringify(entry)) seen.push(entry);
        }
        return ['completed', 'failed'].includes(s) ? s : undefined;
      },
      'the job to end',
      120_000,
      150,
    );
    expect(final).toBe('completed');
    // Mid-run, before the last step: the step's own targets count as completed while no target is through the whole job.
    expect(
      seen.some(
        (e) =>
          /^Step [12] of 3$/.test(e.stepOf) && e.scope === 'step' && e.completed >= 1 && e.total === 3 && e.whole === 0,
      ),
      JSON.stringify(seen),
    ).toBe(true);
    // Over: the counts are the job's outcome.
    expect(await attr(page, 'target-counts', 'data-scope')).toBe('job');
    expect(await attr(page, 'target-counts', 'data-completed')).toBe('3');

    const row = (
      await h.stack.pool.query('SELECT created_at, started_at, finished_at, approval FROM jobs WHERE id = $1', [
        created.id,
      ])
    ).rows[0];
    // Submitted, approved, started: three times, the run's start being the record's (after the approval).
    expect(Date.parse((await page.getByTestId('submitted-at').getAttribute('datetime')) ?? '')).toBe(
      row.created_at.getTime(),
    );
    await expect
      .poll(async () => Date.parse((await page.getByTestId('started-at').getAttribute('data-at')) ?? ''))
      .toBe(row.started_at.getTime());
    expect(row.started_at.getTime() - row.created_at.getTime()).toBeGreaterThanOrEqual(3_000);
    expect(Date.parse((await page.getByTestId('approved-at').getAttribute('data-at')) ?? '')).toBeLessThanOrEqual(
      row.started_at.getTime(),
    );
    // Once the job record is read again after the end, its own times: the jobs list's.
    await expect
      .poll(async () => Number(await page.getByTestId('took').getAttribute('data-seconds')))
      .toBe((row.finished_at.getTime() - row.started_at.getTime()) / 1000);
    const took = (await page.getByTestId('took').textContent()) ?? '';
    await screenshot(page, 'monitor-times-finished');

    // The jobs list says the same duration.
    await page.goto('/jobs');
    const listed = page.locator(`[data-testid=jobs-table] tr[data-job="${created.id}"] td`);
    await listed.first().waitFor();
    expect(await listed.nth(7).textContent()).toBe(took);
  });
});

describe('what a control set going ends with the job', () => {
  it('"cancelling" goes once the job is cancelled', async () => {
    const page = viewer.page;
    const created = await api.submit({
      name: 'slow ticks to cancel',
      steps: [{ id: 'tick', ...script('for i in 1 2 3; do echo $i; sleep 0.5; done') }],
      policies: { maxParallel: 1 },
    });
    await openLive(page, created.id);
    await api.approve(created);
    await expect.poll(() => statusOf(page), { timeout: 30_000 }).toBe('running');
    const controls = page.getByTestId('controls');
    await controls.getByRole('button', { name: 'Cancel…' }).click();
    await controls.getByRole('button', { name: 'Let running steps finish' }).click();
    expect(await waitFinal(page)).toBe('cancelled');
    await expect.poll(() => page.getByTestId('control-note').count(), { timeout: 5_000 }).toBe(0);
    expect(await page.getByTestId('cancel-requested').count()).toBe(0);
    expect(await page.locator('.progress-head').textContent()).not.toMatch(/cancel/i);
  });

  it('"rolling back" goes once the rollback is over', async () => {
    const page = viewer.page;
    const created = await api.submit({
      name: 'fails and asks',
      steps: [{ id: 'broken', ...script('exit 3') }],
      // Past 20% failed, an approver is asked: go on, or roll back.
      policies: {
        maxParallel: 1,
        continueOnFailure: true,
        maxFailPercentage: 20,
        onFailThreshold: 'ask',
        rollback: 'target',
      },
    });
    await openLive(page, created.id);
    await api.approve(created);
    await expect.poll(() => statusOf(page), { timeout: 60_000 }).toBe('awaiting_decision');
    await page.getByTestId('controls').getByRole('button', { name: 'Roll back' }).click();
    expect(await waitFinal(page)).toBe('failed');
    await expect.poll(() => page.getByTestId('control-note').count(), { timeout: 5_000 }).toBe(0);
    expect(await page.getByTestId('job-status').textContent()).toBe('failed');
    expect(await page.getByTestId('job-monitor').textContent()).not.toMatch(/rolling back/);
  });
});

describe("a mixed group's Linux and Windows variants", () => {
  it('are one step of the plan, counted together, each variant shown beneath it', async () => {
    const page = viewer.page;
    const created = await api.submit({
      name: 'stop dataprocessor everywhere',
      steps: [
        {
          id: 'stop',
          tool: 'service-stop',
          params: { service: 'dataprocessor' },
          targets: { group: 'Data Processing' },
        },
      ],
    });
    await openLive(page, created.id);
    await api.approve(created);
    const steps = new Set<string>();
    const final = await until(
      async () => {
        const s = (await statusOf(page)) ?? '';
        if (s === 'running') steps.add((await page.getByTestId('step-of').textContent()) ?? '');
        return ['completed', 'failed'].includes(s) ? s : undefined;
      },
      'the job to end',
      120_000,
      100,
    );
    expect(final).toBe('completed');
    steps.add((await page.getByTestId('step-of').textContent()) ?? '');
    expect([...steps]).toEqual(['Step 1 of 1']);
    const list = page.locator('[data-testid=step-list] > li');
    expect(await list.count()).toBe(1);
    expect(await list.first().getAttribute('data-total')).toBe('4');
    expect(await list.first().getAttribute('data-completed')).toBe('4');
    expect(await list.first().locator('.step-name').textContent()).not.toMatch(/\((linux|windows)\)/);
    expect(await list.first().getByTestId('step-variants').locator('li').allTextContents()).toEqual([
      'Linux: 2/2 complete',
      'Windows: 2/2 complete',
    ]);
    expect(await attr(page, 'target-counts', 'data-total')).toBe('4');
    expect(await attr(page, 'target-counts', 'data-completed')).toBe('4');
    // The job's own events number them so too.
    const events = (await page.getByTestId('live-log').textContent()) ?? '';
    expect(events).toMatch(/Step 1 of 1: .*\(linux\)/);
    expect(events).toMatch(/Step 1 of 1: .*\(windows\)/);
    expect(events).not.toMatch(/Step \d of 2/);
    await screenshot(page, 'monitor-mixed-variants');
  });
});

describe('at tablet width', () => {
  it('a very long step name and long target names never make the page wider than the screen', async () => {
    const page = viewer.page;
    await page.setViewportSize(TABLET);
    const created = await api.submit({
      name: `${LONG_STEP.slice(0, 150)} on every server`,
      steps: [
        {
          id: 'long',
          tool: 'run-script',
          name: LONG_STEP,
          params: { script: 'echo "checked $(hostname)"' },
          targets: { targets: [LONG_TARGET, h.fleet.hosts[0]!.name] },
        },
      ],
    });
    await openLive(page, created.id);
    const overflow = () =>
      // The page's width, and the innermost elements reaching past the screen (to name a failure).
      page.evaluate<{ width: number; viewport: number; past: string[] }>(`(() => {
        const past = (el) => el.getBoundingClientRect().right > window.innerWidth + 1;
        const wide = [...document.querySelectorAll('body *')].filter((el) => past(el) && ![...el.children].some(past));
        return {
          width: document.documentElement.scrollWidth,
          viewport: window.innerWidth,
          past: wide.slice(0, 8).map((el) => el.tagName + '.' + el.className + ' ' + Math.round(el.getBoundingClientRect().right)),
        };
      })()`);
    let before = await overflow();
    expect(before.width, JSON.stringify(before)).toBeLessThanOrEqual(before.viewport);
    await api.approve(created);
    expect(await waitFinal(page)).toBe('completed');
    // The long-named target's output open too.
    await page.locator(`[data-testid=target-grid] tr[data-target="${LONG_TARGET}"] [data-cell]`).first().click();
    await page.getByTestId('target-output').waitFor();
    before = await overflow();
    expect(before.viewport).toBe(TABLET.width);
    expect(before.width, JSON.stringify(before)).toBeLessThanOrEqual(before.viewport);
    await screenshot(page, 'monitor-tablet-long-names');
    await page.goto('/jobs');
    await page.getByTestId('jobs-table').waitFor();
    await page.setViewportSize({ width: 1440, height: 900 });
  });
});

describe('the title', () => {
  it('heads the monitor and the jobs list with a summary of the plan, the raw request beneath it', async () => {
    const page = viewer.page;
    const res = await requestJson<Created>(`${h.orchestrator.apiUrl}/api/jobs`, {
      token: tokens.operator!,
      body: { request: REQUEST },
    });
    expect(res.status).toBe(201);
    await openLive(page, res.body.id);
    expect(await page.getByTestId('job-name').textContent()).toBe('Update nginx on Web');
    expect(await page.getByTestId('job-request').textContent()).toBe(`“${REQUEST}”`);
    await page.goto('/jobs');
    const link = page.locator(`[data-testid=jobs-table] tr[data-job="${res.body.id}"] td`).first().locator('a');
    await link.waitFor();
    expect(await link.textContent()).toBe('Update nginx on Web');
    // Found by the words of its request too.
    await page.goto(`/jobs?q=${encodeURIComponent('latest version')}`);
    await expect
      .poll(() => page.locator(`[data-testid=jobs-table] tr[data-job="${res.body.id}"]`).count(), { timeout: 15_000 })
      .toBe(1);
    expect(
      (await control(h.orchestrator.apiUrl, tokens.operator!, res.body.id, 'reject', { comment: 'test' })).status,
    ).toBe(200);
  });

  it('is text only: markup shows as written, a control character or an overlong title is refused', async () => {
    const page = viewer.page;
    const hostile = '<img src=x onerror="window.__pwned=1">Restart <b>nginx</b> & co';
    const draft = (title: string) => ({ name: 'titled', title, steps: [{ id: 'one', ...script('echo hi') }] });
    const created = await api.submit(draft(hostile));
    await openLive(page, created.id);
    const heading = page.getByTestId('job-name');
    expect(await heading.textContent()).toBe(hostile);
    expect(await heading.locator('img, b').count()).toBe(0);
    expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');
    for (const bad of ['two\nlines', 'reversed \u202Etxt.exe', 'x'.repeat(121)]) {
      const refused = await requestJson(`${h.orchestrator.apiUrl}/api/jobs`, {
        token: tokens.operator!,
        body: { draft: draft(bad) },
      });
      expect(refused.status, bad).toBeGreaterThanOrEqual(400);
      expect(refused.status, bad).toBeLessThan(500);
    }
    expect(
      (await control(h.orchestrator.apiUrl, tokens.operator!, created.id, 'reject', { comment: 'test' })).status,
    ).toBe(200);
  });

  it('printed no console errors and threw no exceptions', () => {
    expect(viewer.problems).toEqual([]);
  });
});
