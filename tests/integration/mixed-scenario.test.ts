import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataprocessorWindowsHost } from '@opsc/dev';
import { startWinrmFleet, type WinrmFleet } from '@opsc/testkit';
import { requestJson, type JobView } from '../support/api.js';
import { approveAndWait, proposeAndFill, submitDraft } from '../support/rollout.js';
import { registerWinrmHosts } from '../support/winrm-harness.js';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.js';

// The seed's mixed scenario: one request over a group of 7 Linux and 5 Windows servers. Each target's
// OS comes from the inventory; Linux hosts get systemctl over SSH, Windows hosts Stop-Service over
// WinRM, both variants in one window, one result.
const REQUEST = "Stop 'dataprocessor' service on all servers in 'Data Processing' group";
const LINUX = 7;
const WINDOWS = 5;

let h: SshHarness;
let win: WinrmFleet;
let operator: { token: string };
let approver: { token: string };

beforeAll(async () => {
  h = await startSshHarness('mixed-scenario', {
    size: LINUX,
    host: () => ({ services: { dataprocessor: 'active', nginx: 'active' } }),
  });
  win = await startWinrmFleet({
    size: WINDOWS,
    firstOctet: 60,
    host: dataprocessorWindowsHost,
  });
  await registerWinrmHosts(h.orchestrator.apiUrl, h.admin.token, win, 'mixed-scenario');
  const api = (path: string, body: unknown) =>
    requestJson(`${h.orchestrator.apiUrl}${path}`, { token: h.admin.token, body });
  const members = [...h.fleet.hosts.map((x) => x.name), ...win.hosts.map((x) => x.name)];
  expect((await api('/api/inventory/groups', { name: 'Data Processing', targets: members })).status).toBe(201);
  await h.stack.startExecutor();
  operator = await h.stack.createUser('operator', { tenant: 'acme' });
  approver = await h.stack.createUser('approver', { tenant: 'acme' });
}, 240_000);

afterAll(async () => {
  await win?.stop();
  await h?.close();
});

describe("the seed's mixed scenario, from the request text", () => {
  let job: JobView;

  beforeAll(async () => {
    const proposal = await proposeAndFill(h.orchestrator.apiUrl, operator.token, REQUEST);
    const created = await submitDraft(h.orchestrator.apiUrl, operator.token, proposal.draft);
    job = await approveAndWait(h.orchestrator.apiUrl, operator.token, approver.token, created, 120_000);
  }, 150_000);

  it("compiles one plan step into a Linux and a Windows variant by each target's OS, run together", () => {
    expect(job.status).toBe('completed');
    expect(job.progress!.steps.map((s) => [s.id, s.targets.total, s.targets.completed])).toEqual([
      ['stop-linux', LINUX, LINUX],
      ['stop-windows', WINDOWS, WINDOWS],
    ]);
    const [linux, windows] = job.progress!.steps;
    // One window over both variants: each started before the other finished.
    expect(Date.parse(linux!.startedAt!)).toBeLessThan(Date.parse(windows!.finishedAt!));
    expect(Date.parse(windows!.startedAt!)).toBeLessThan(Date.parse(linux!.finishedAt!));
    const methods = new Map(job.results.map((r) => [r.target.name, (r as unknown as { method: string }).method]));
    for (const host of h.fleet.hosts) expect(methods.get(host.name)).toBe('ssh');
    for (const host of win.hosts) expect(methods.get(host.name)).toBe('winrm');
    expect(job.progress!.targetProgress).toMatchObject({
      total: LINUX + WINDOWS,
      completed: LINUX + WINDOWS,
      failed: 0,
    });
  });

  it('really stopped the service on every host, and nothing else', async () => {
    for (const i of h.fleet.hosts.keys()) {
      const state = await h.fleet.exec(i, 'systemctl is-active dataprocessor; systemctl is-active nginx');
      expect(state.stdout, h.fleet.hosts[i]!.name).toBe('inactive\nactive\n');
    }
    for (const i of win.hosts.keys()) expect(win.host(i).service('dataprocessor')?.status).toBe('Stopped');
  });
});
