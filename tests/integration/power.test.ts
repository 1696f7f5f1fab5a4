import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandOutput } from '@opsc/contracts';
import { startWinrmFleet, type WinrmFleet } from '@opsc/testkit';
import { eventually, requestJson, waitForJob, type JobView } from '../support/api.js';
import { approveAndWait, control, submitDraft } from '../support/rollout.js';
import { registerWinrmHosts } from '../support/winrm-harness.js';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.js';

// system-reboot, wait and system-shutdown end to end: plans submitted through the API, approved
// (both power tools are destructive), run by the real executor on real sshd hosts and the WS-Man
// fleet. A fleet host's reboot is emulated by the fleet (new boot id, services started again); the
// machine's own power commands are out of the hosts' reach (testkit/src/fleet-power.test.ts).

let h: SshHarness;
let win: WinrmFleet;
let operator: { token: string };
let approver: { token: string };
/** Inventory ids of the Windows hosts, by index. */
const winIds: string[] = [];

const BOOT_ID = /^[0-9a-f-]{36}$/;

beforeAll(async () => {
  h = await startSshHarness('power', { size: 4, host: () => ({ services: { nginx: 'active' } }) });
  win = await startWinrmFleet({
    size: 2,
    firstOctet: 70,
    host: () => ({ services: [{ name: 'StationCtl', path: 'C:\\Station\\stationctl.exe', status: 'Running' }] }),
  });
  winIds.push(...(await registerWinrmHosts(h.orchestrator.apiUrl, h.admin.token, win, 'power')));
  const api = (path: string, body: unknown) =>
    requestJson(`${h.orchestrator.apiUrl}${path}`, { token: h.admin.token, body });
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

// Steps with a reboot or shutdown are compiled to one attempt; should Temporal still run another
// (a plan from before, a lost worker), the executor must not send the command again.
describe('a retried attempt of a reboot or shutdown', () => {
  const reboots = async (i: number) => (await h.fleet.readJournal(i)).filter((e) => e.action === 'reboot').length;
  const power = (details: unknown) => (details as { power?: Record<string, unknown> } | undefined)?.power;

  it('Linux: the attempt heartbeats its record before the reboot; a retry with it waits and does not reboot again', async () => {
    const bootBefore = await h.fleet.bootId(0);
    const rebootsBefore = await reboots(0);
    const first = new MockActivityEnvironment({ attempt: 1 });
    const beats: unknown[] = [];
    first.on('heartbeat', (d: unknown) => beats.push(structuredClone(d)));
    const op = { op: 'reboot', timeoutSeconds: 60 } as const;
    const done = await h.run(0, op, { become: true, timeoutSeconds: 120, stepId: 'retried', env: first });
    expect(done).toMatchObject({ exitCode: 0, facts: { boot_id_before: bootBefore } });
    expect(await reboots(0)).toBe(rebootsBefore + 1);
    const recorded = beats.find((d) => power(d));
    expect(power(recorded)).toMatchObject({ op: 'reboot', attempt: 1, before: bootBefore });
    const bootAfter = await h.fleet.bootId(0);

    const retry = await h.run(0, op, {
      become: true,
      timeoutSeconds: 120,
      stepId: 'retried',
      env: new MockActivityEnvironment({ attempt: 2, heartbeatDetails: beats.at(-1) }),
    });
    expect(retry.exitCode).toBe(0);
    expect(retry.stdout).toMatch(
      /^the reboot was issued by attempt 1 at \S+Z; not issued again\n.* is back after \d+ s/,
    );
    expect(retry.facts).toMatchObject({ boot_id_before: bootBefore, boot_id: bootAfter, issued_by_attempt: '1' });
    expect(await reboots(0)).toBe(rebootsBefore + 1);
    expect(await h.fleet.bootId(0)).toBe(bootAfter);
  });

  it('Linux: a retry without a record fails for good and sends nothing; a retried shutdown only reports', async () => {
    const rebootsBefore = await reboots(0);
    const bootBefore = await h.fleet.bootId(0);
    const lost = h.run(
      0,
      { op: 'reboot', timeoutSeconds: 60 },
      { become: true, timeoutSeconds: 120, env: new MockActivityEnvironment({ attempt: 2 }) },
    );
    await expect(lost).rejects.toMatchObject({
      nonRetryable: true,
      message: expect.stringMatching(/attempt 2 of the reboot of .* did not send it again/),
    });
    const off = await h.run(
      0,
      { op: 'shutdown' },
      {
        become: true,
        env: new MockActivityEnvironment({
          attempt: 2,
          heartbeatDetails: { power: { op: 'shutdown', attempt: 1, issuedAt: new Date().toISOString(), before: '' } },
        }),
      },
    );
    expect(off).toMatchObject({ exitCode: 0, facts: { issued_by_attempt: '1' } });
    expect(off.stdout).toMatch(/^the shutdown was issued by attempt 1 at \S+; not issued again\n$/);
    expect(await reboots(0)).toBe(rebootsBefore);
    expect((await h.fleet.readJournal(0)).map((e) => e.action)).not.toContain('poweroff');
    expect(h.fleet.isUp(0)).toBe(true);
    expect(await h.fleet.bootId(0)).toBe(bootBefore);
  });

  it('Windows: a retry with the record waits for a later boot and does not restart; one without fails', async () => {
    const host = win.host(0);
    const asked: string[] = [];
    const emulate = host.onPower;
    host.onPower = (action) => {
      asked.push(action);
      emulate?.(action);
    };
    const runWin = (env: MockActivityEnvironment) =>
      env.run(h.base.executor.activities.runWinrmOperation, {
        jobId: h.jobId,
        stepId: `w-${randomUUID().slice(0, 8)}`,
        target: { id: winIds[0]!, name: win.hosts[0]!.name },
        timeoutSeconds: 120,
        operation: { op: 'reboot' as const, timeoutSeconds: 30 },
      }) as Promise<CommandOutput>;
    try {
      const booted = host.bootTime.getTime();
      // The record of an attempt that restarted the host: its boot time before is earlier than now.
      const earlier = new Date(booted - 60_000).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
      const retry = await runWin(
        new MockActivityEnvironment({
          attempt: 2,
          heartbeatDetails: {
            power: { op: 'reboot', attempt: 1, issuedAt: new Date().toISOString(), before: earlier },
          },
        }),
      );
      expect(retry.exitCode).toBe(0);
      expect(retry.stdout).toMatch(/^the reboot was issued by attempt 1 at \S+; not issued again\r\n.* is back after/);
      expect(retry.facts).toMatchObject({ boot_time_before: earlier });
      await expect(runWin(new MockActivityEnvironment({ attempt: 3 }))).rejects.toMatchObject({
        nonRetryable: true,
        message: expect.stringMatching(/attempt 3 of the reboot of .* did not send it again/),
      });
      expect(asked).toEqual([]);
      expect(host.bootTime.getTime()).toBe(booted);
      expect(win.isUp(0)).toBe(true);
    } finally {
      host.onPower = emulate;
    }
  });
});
