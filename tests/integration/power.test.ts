import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWinrmFleet, type WinrmFleet } from '@opsc/testkit';
import { eventually, requestJson, waitForJob, type JobView } from '../support/api.js';
import { approveAndWait, control, submitDraft } from '../support/rollout.js';
import { registerTestSecrets } from '../support/secret-registry.js';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.js';

// system-reboot, wait and system-shutdown end to end: plans submitted through the API, approved
// (both power tools are destructive), run by the real executor on real sshd hosts and the WS-Man
// fleet. A fleet host's reboot is emulated by the fleet (new boot id, services started again); the
// machine's own power commands are out of the hosts' reach (testkit/src/fleet-power.test.ts).

let h: SshHarness;
let win: WinrmFleet;
let operator: { token: string };
let approver: { token: string };

const BOOT_ID = /^[0-9a-f-]{36}$/;

beforeAll(async () => {
  h = await startSshHarness('power', { size: 4, host: () => ({ services: { nginx: 'active' } }) });
  win = await startWinrmFleet({
    size: 2,
    firstOctet: 70,
    host: () => ({ services: [{ name: 'StationCtl', path: 'C:\\Station\\stationctl.exe', status: 'Running' }] }),
  });
  registerTestSecrets(
    'windows hosts of power',
    win.hosts.map((host) => host.password),
  );
  const api = (path: string, body: unknown) =>
    requestJson(`${h.orchestrator.apiUrl}${path}`, { token: h.admin.token, body });
  for (const host of win.hosts) {
    const credential = `${host.name}-ntlm`;
    expect(
      (
        await api('/api/credentials', {
          name: credential,
          username: `${host.domain}\\${host.username}`,
          metadata: { transport: 'ntlm' },
          secret: { kind: 'winrm', password: host.password },
        })
      ).status,
    ).toBe(201);
    const target = {
      name: host.name,
      address: host.address,
      os: 'windows',
      services: [{ protocol: 'winrm', scheme: 'http', port: host.httpPort, transport: 'ntlm', credential }],
    };
    expect((await api('/api/inventory/targets', target)).status).toBe(201);
  }
  const [l0, l1, l2, l3] = h.fleet.hosts.map((x) => x.name);
  const [w0, w1] = win.hosts.map((x) => x.name);
  for (const [name, targets] of Object.entries({
    Reboot: [l0, l1, w0],
    RebootLinux: [l0, l1],
    Off: [l2, w1],
    Lost: [l3],
    Lost1: [l1],
  }))
    expect((await api('/api/inventory/groups', { name, targets })).status).toBe(201);
  await h.stack.startExecutor();
  operator = await h.stack.createUser('operator', { tenant: 'acme' });
  approver = await h.stack.createUser('approver', { tenant: 'acme' });
}, 240_000);

afterAll(async () => {
  await win?.stop();
  await h?.close();
});

const run = async (draft: unknown, timeoutMs = 180_000): Promise<JobView> => {
  const created = await submitDraft(h.orchestrator.apiUrl, operator.token, draft);
  expect(created).toMatchObject({ approvalRequired: true, risk: 'destructive' });
  return approveAndWait(h.orchestrator.apiUrl, operator.token, approver.token, created, timeoutMs);
};

describe('system-reboot, then wait, on 2 Linux and 1 Windows host', () => {
  let job: JobView;
  const before: { linux: string[]; windows: number } = { linux: [], windows: 0 };

  beforeAll(async () => {
    for (const i of [0, 1]) {
      before.linux.push(await h.fleet.bootId(i));
    }
    before.windows = win.host(0).bootTime.getTime();
    job = await run({
      name: 'reboot, wait, check',
      steps: [
        { id: 'reboot', tool: 'system-reboot', params: { timeoutSeconds: 120 }, targets: { group: 'Reboot' } },
        { id: 'pause', tool: 'wait', params: { seconds: 3 } },
        { id: 'check', tool: 'service-status', params: { service: 'nginx' }, targets: { group: 'RebootLinux' } },
      ],
    });
  }, 240_000);

  it('each host came back with a new boot id, which the step reported; its services started again', async () => {
    expect(job.status).toBe('completed');
    for (const i of [0, 1]) {
      const name = h.fleet.hosts[i]!.name;
      const now = (await h.fleet.exec(i, 'cat /proc/sys/kernel/random/boot_id')).stdout.trim();
      expect(now).toMatch(BOOT_ID);
      expect(now, name).not.toBe(before.linux[i]);
      const result = job.results.find((r) => r.stepId === 'reboot-linux' && r.target.name === name);
      expect(result).toMatchObject({ status: 'succeeded', exitCode: 0, attempt: 1 });
      expect(result!.facts).toMatchObject({ boot_id_before: before.linux[i], boot_id: now });
      expect(result!.stdout).toContain(`${name} is back after`);
      // nginx runs again, started by the new boot (a new PID namespace may give it the same number).
      expect((await h.fleet.exec(i, 'pgrep -x nginx')).stdout.trim()).toMatch(/^\d+$/);
      const journal = (await h.fleet.readJournal(i)).map((e) => `${e.action} ${e.unit}`);
      expect(journal.filter((e) => e === 'boot-start nginx')).toHaveLength(2);
      expect(journal.indexOf('reboot system')).toBeGreaterThan(journal.indexOf('boot-start nginx'));
      expect(journal.lastIndexOf('boot-start nginx')).toBeGreaterThan(journal.indexOf('reboot system'));
    }
    const windows = job.results.find((r) => r.stepId === 'reboot-windows');
    expect(windows).toMatchObject({ status: 'succeeded', target: { name: win.hosts[0]!.name } });
    expect(win.host(0).bootTime.getTime()).toBeGreaterThan(before.windows);
    expect(Date.parse(windows!.facts!.boot_time!)).toBeGreaterThan(Date.parse(windows!.facts!.boot_time_before!));
    expect(win.isUp(0)).toBe(true);
  });

  it('waited between the reboot and the next step, as a step of its own the monitor shows', () => {
    const steps = job.progress!.steps;
    expect(steps.map((s) => [s.id, s.status])).toEqual([
      ['reboot-linux', 'succeeded'],
      ['reboot-windows', 'succeeded'],
      ['pause', 'succeeded'],
      ['check', 'succeeded'],
    ]);
    const pause = steps[2]!;
    expect(pause.name).toBe('Wait 3 seconds');
    expect(Date.parse(pause.startedAt!)).toBeGreaterThanOrEqual(Date.parse(steps[0]!.finishedAt!));
    expect(Date.parse(steps[3]!.startedAt!) - Date.parse(pause.startedAt!)).toBeGreaterThanOrEqual(3_000);
    expect(job.results.filter((r) => r.stepId === 'pause').map((r) => [r.target.name, r.status])).toEqual([
      ['executor', 'succeeded'],
    ]);
  });
});

describe('system-shutdown', () => {
  it('succeeds once the hosts accepted it, and they stop answering', async () => {
    const job = await run({
      name: 'power off',
      steps: [{ id: 'off', tool: 'system-shutdown', params: {}, targets: { group: 'Off' } }],
    });
    expect(job.status).toBe('completed');
    expect(job.results.map((r) => [r.stepId, r.status]).sort()).toEqual([
      ['off-linux', 'succeeded'],
      ['off-windows', 'succeeded'],
    ]);
    await eventually(async () => (!h.fleet.isUp(2) && !win.isUp(1)) || undefined, 30_000, 'both hosts down');
    const ssh = await h.fleet.exec(2, 'true');
    expect(ssh.code).toBe(255);
    expect((await h.fleet.readJournal(2)).map((e) => e.action)).toContain('poweroff');
  });
});

describe('a reboot whose host never comes back', () => {
  it('fails after its timeoutSeconds with a clear error, and is not retried (a retry would reboot again)', async () => {
    h.fleet.holdDownOnReboot(3, true);
    const started = Date.now();
    const job = await run({
      name: 'lost',
      steps: [{ id: 'reboot', tool: 'system-reboot', params: { timeoutSeconds: 10 }, targets: { group: 'Lost' } }],
    });
    expect(job.status).toBe('failed');
    const [result] = job.results;
    expect(result).toMatchObject({ status: 'failed', attempt: 1, error: { type: 'Timeout' } });
    expect(result!.error!.message).toMatch(/did not come back within 10 s of the reboot: not answering/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(10_000);
    expect((await h.fleet.readJournal(3)).filter((e) => e.action === 'reboot')).toHaveLength(1);
  });
});

describe('a cancel while the step waits for a rebooted host', () => {
  it('stops the wait at once: the step is cancelled, and its record says the reboot ran', async () => {
    h.fleet.holdDownOnReboot(1, true);
    const { apiUrl } = h.orchestrator;
    const created = await submitDraft(apiUrl, operator.token, {
      name: 'reboot, then give up',
      steps: [{ id: 'reboot', tool: 'system-reboot', params: { timeoutSeconds: 600 }, targets: { group: 'Lost1' } }],
    });
    await waitForJob(apiUrl, operator.token, created.id, (j) => j.status === 'awaiting_approval', 30_000);
    expect(
      (await control(apiUrl, approver.token, created.id, 'approve', { planHash: created.planHash, comment: 'CHG-1' }))
        .status,
    ).toBe(200);
    await eventually(async () => !h.fleet.isUp(1) || undefined, 60_000, 'the host to go down');
    const cancelledAt = Date.now();
    expect((await control(apiUrl, operator.token, created.id, 'cancel', { mode: 'interrupt' })).status).toBe(200);
    const job = await waitForJob(apiUrl, operator.token, created.id, (j) => j.status === 'cancelled', 60_000);
    expect(Date.now() - cancelledAt).toBeLessThan(30_000);
    const [result] = job.results;
    expect(result).toMatchObject({ status: 'failed', error: { type: 'Cancelled' } });
    expect(result!.stdout).toMatch(/reboot scheduled/);
    expect(result!.facts!.boot_id).toMatch(BOOT_ID);
  });
});
