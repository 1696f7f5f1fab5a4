import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForJob } from '../support/api.js';
import { uploadArtifact } from '../support/artifacts.js';
import { control, submitDraft } from '../support/rollout.js';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.js';
import { startThrottleProxy, type ThrottleProxy } from '../support/throttle-proxy.js';
import { expectUploadReports, progressLines } from '../support/transfer-progress.js';
import { openHarnessWeb, reserveWebPort, screenshot, signIn, until, type UserPage } from '../support/web.js';

// A file copy over SFTP reports its bytes as it goes: a few times a second per target, on the
// output stream `progress`, and the monitor shows "Copying file… (x MB of y MB)" while it runs.
// Host 1 is reached through a link the test slows to 1 MB/s, so a 3 MB copy lasts about 3 s
// however fast the machine; host 0 is reached directly.
const PASSWORD = 'a long test password 1';
const SLOW = 1;
const RATE = 1_000_000;
const big = randomBytes(3_000_000);
const sha256 = createHash('sha256').update(big).digest('hex');

let h: SshHarness;
let proxy: ThrottleProxy;
let operator: UserPage;
let tokens: Record<string, string>;

beforeAll(async () => {
  const webPort = await reserveWebPort();
  h = await startSshHarness('copy-progress', {
    orchestratorEnv: webPort.orchestratorEnv,
    size: 2,
    host: (i) => ({
      services: { nginx: i === SLOW ? 'inactive' : 'active' },
      files: { '/etc/nginx/nginx.conf': `# ${i}\nworker_processes auto;\n` },
    }),
    groups: { Fleet: [0, 1] },
  });
  const slow = h.fleet.hosts[SLOW]!;
  proxy = await startThrottleProxy(slow.address, slow.port, RATE);
  h.base.onClose(() => proxy.close());
  await h.stack.pool.query(`UPDATE target_services SET port = $1 WHERE target_id = $2 AND protocol = 'ssh'`, [
    proxy.port,
    h.targetIds[SLOW],
  ]);
  await h.stack.startExecutor();
  await uploadArtifact(h.orchestrator.apiUrl, h.admin.token, 'big.bin', big);
  ({ user: operator, tokens } = await openHarnessWeb(h, webPort.port, {
    roles: ['operator', 'approver'],
    prefix: 'c',
    password: PASSWORD,
  }));
}, 240_000);

afterAll(async () => {
  await h?.close();
});

describe('copy progress over SFTP', () => {
  it('reports increasing bytes sent a few times a second while the copy runs, then a final report', async () => {
    let finishedAt = 0;
    const copy = h
      .run(SLOW, { op: 'file-copy', source: 'big.bin', sha256, destination: '/tmp/big.bin' }, { stepId: 'slow-copy' })
      .then((out) => ((finishedAt = Date.now()), out));
    // Several reports are in PostgreSQL before the copy has ended.
    const early = await until(async () => {
      const rows = await progressLines(h.stack.pool, h.jobId, 'slow-copy');
      return rows.length >= 3 ? rows : undefined;
    }, 'three progress reports');
    expect(finishedAt, 'reports seen while the copy still ran').toBe(0);
    expect(early.length).toBeGreaterThanOrEqual(3);
    const out = await copy;
    expect(out.exitCode).toBe(0);
    expect(out.facts).toMatchObject({ sha256, bytes: String(big.length) });

    const rows = await progressLines(h.stack.pool, h.jobId, 'slow-copy');
    // Bounded: at most one report per 250 ms before the final one (3 MB at 1 MB/s: about 12, never hundreds).
    expectUploadReports(rows, big.length);
  }, 120_000);
});

describe('the monitor', () => {
  it('shows "Copying file… (x MB of y MB)" while a copy runs, and step rows state what the steps did', async () => {
    const fleet = { group: 'Fleet' };
    const created = await submitDraft(h.orchestrator.apiUrl, tokens.operator!, {
      name: 'Update the app on the fleet',
      policies: { continueOnFailure: true, maxFailPercentage: 100 },
      steps: [
        { id: 'status', tool: 'service-status', params: { service: 'nginx' }, targets: fleet },
        { id: 'backup', tool: 'config-backup', params: { paths: ['/etc/nginx'] }, targets: fleet },
        { id: 'copy', tool: 'file-copy', params: { source: 'big.bin', destination: '/tmp/app.bin' }, targets: fleet },
      ],
    });
    await waitForJob(h.orchestrator.apiUrl, tokens.operator!, created.id, (j) => j.status === 'awaiting_approval');
    const { page, problems } = operator;
    await signIn(page, 'acme', 'c-operator', PASSWORD);
    await page.goto(`/jobs/${created.id}`);
    await page.getByTestId('target-grid').waitFor();
    expect(
      (await control(h.orchestrator.apiUrl, tokens.approver!, created.id, 'approve', { planHash: created.planHash }))
        .status,
    ).toBe(200);

    // While the slow host's copy runs: its row in the grid, and the live log, say how far it is.
    const slowName = h.fleet.hosts[SLOW]!.name;
    const copying = /^Copying file… \((\d+\.\d) MB of 3\.0 MB(, [\d.]+ [kM]B\/s)?\)$/;
    const shown = await until(
      async () => {
        const cell = page.locator(
          `[data-testid=target-grid] tr[data-target="${slowName}"] [data-testid=target-transfer]`,
        );
        const text = (await cell.count()) ? ((await cell.textContent()) ?? '').trim() : '';
        return copying.test(text) ? text : undefined;
      },
      'the grid to show the slow host copying',
      90_000,
    );
    const mb = Number(copying.exec(shown)![1]);
    expect(mb).toBeGreaterThan(0);
    expect(mb).toBeLessThan(3);
    const logRow = page.locator('[data-testid=live-log] [data-kind=progress]', { hasText: slowName });
    expect(await logRow.count()).toBeGreaterThan(0);
    await screenshot(page, 'copy-progress-running');

    const job = await waitForJob(h.orchestrator.apiUrl, tokens.operator!, created.id, undefined, 120_000);
    expect(job.status).toBe('completed');
    // Step rows state facts from the steps' typed results (once the page has the final progress).
    const facts = async (step: string, want: RegExp) => {
      let last = '';
      await until(async () => {
        const el = page.locator(`[data-testid=step-list] li[data-step="${step}"] [data-testid=step-facts]`);
        last = (await el.count()) ? ((await el.textContent()) ?? '').replace(/^ · /, '') : '';
        return want.test(last) ? true : undefined;
      }, `the facts of step ${step}`).catch(() => undefined);
      return last;
    };
    expect(await facts('status', /^1 running, 1 stopped$/)).toBe('1 running, 1 stopped');
    expect(await facts('backup', /^2 backups created \(/)).toMatch(/^2 backups created \(/);
    expect(await facts('copy', /^2 copied \(3\.0 MB each\)$/)).toBe('2 copied (3.0 MB each)');
    // Once sent, the live log's row for the copy says so.
    await until(
      async () =>
        /✓ File sent \(3\.0 MB in [\d.]+ s\)/.test((await page.getByTestId('live-log').textContent()) ?? '')
          ? true
          : undefined,
      'the live log to show the copy sent',
    );
    await screenshot(page, 'copy-progress-done');
    expect(problems).toEqual([]);
  }, 300_000);
});
