import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestJson, type JobView } from '../support/api.js';
import { approveAndWait, proposeAndFill, submitDraft } from '../support/rollout.js';
import { startWinrmHarness, type WinrmHarness } from '../support/winrm-harness.js';
import { uploadArtifact } from '../support/artifacts.js';
import {
  ALREADY_STOPPED,
  DENYING,
  EXE,
  OLD_EXE,
  REQUEST,
  SIZE,
  seedWindowsFleet,
} from '../support/seed-windows-fleet.js';

// The seed's Windows scenario end to end, from the request as typed: planner -> approval -> Temporal
// workflow -> executor worker process -> WinRM -> 25 simulated Windows hosts in group 'CIS servers'.
// Two of them deny writes to the program folder, so their copy fails and they are rolled back; the
// others get the new executable.
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let h: WinrmHarness;
let operator: { token: string };
let approver: { token: string };
let newExe: Buffer;

beforeAll(async () => {
  h = await startWinrmHarness('windows-scenario', seedWindowsFleet());
  newExe = randomBytes(2 * 1024 * 1024);
  await uploadArtifact(h.orchestrator.apiUrl, h.admin.token, 'stationcontroller/2.0/stationcontroller.exe', newExe);
  await h.stack.startExecutor({ EXECUTOR_MAX_CONCURRENT_ACTIVITIES: '100' });
  operator = await h.stack.createUser('operator', { tenant: 'acme' });
  approver = await h.stack.createUser('approver', { tenant: 'acme' });
}, 240_000);

afterAll(async () => {
  await h?.close();
});

describe("the seed's Windows scenario over WinRM, from the request text", () => {
  let job: JobView;
  const resultsOf = (stepId: string) => job.results.filter((r) => r.stepId === stepId);
  const hostIndex = (name: string) => h.fleet.hosts.findIndex((host) => host.name === name);

  beforeAll(async () => {
    // The planner asks which file to copy where; the operator answers, as in the chat.
    const proposal = await proposeAndFill(h.orchestrator.apiUrl, operator.token, REQUEST, (tool, param) =>
      tool === 'file-copy'
        ? { source: 'stationcontroller/2.0/stationcontroller.exe', destination: EXE }[param]
        : undefined,
    );
    expect(proposal.draft.steps.map((s) => s.tool)).toEqual([
      'process-check',
      'service-stop',
      'file-copy',
      'service-start',
      'service-wait',
    ]);
    const created = await submitDraft(h.orchestrator.apiUrl, operator.token, proposal.draft);
    expect(created).toMatchObject({ approvalRequired: true, risk: 'change' });
    job = await approveAndWait(h.orchestrator.apiUrl, operator.token, approver.token, created);
  }, 320_000);

  it('resolves the 25 targets of the group, runs the change on 23 and rolls back the 2 whose copy failed', () => {
    expect(job.targets).toHaveLength(SIZE);
    expect(job.status).toBe('failed');
    expect(job.progress?.steps.map((s) => [s.id, s.targets.completed, s.targets.failed])).toEqual([
      ['process-check', 25, 0],
      ['stop', 25, 0],
      ['file-copy', 23, 2],
      ['start', 23, 0],
      ['verify', 23, 0],
    ]);
    expect(job.progress?.targetProgress).toMatchObject({ total: 25, completed: 23, failed: 2, rolledBack: 2 });
    expect(job.outcome).toMatchObject({
      targets: { total: 25, completed: 23, rolledBack: 2, rollbackFailed: 0 },
      compensationFailures: 0,
    });
  });

  it('finds the process where it runs and stops the service only there', () => {
    const check = resultsOf('process-check');
    expect(check.filter((r) => r.facts?.running === 'true')).toHaveLength(SIZE - 1);
    const stop = resultsOf('stop').find((r) => hostIndex(r.target.name) === ALREADY_STOPPED);
    expect(stop?.facts).toMatchObject({ before: 'Stopped', state: 'Stopped' });
    expect(stop?.stdout).toContain('already stopped');
  });

  it('copies the new file, verified by SHA-256, to the 23 hosts that allow it, keeping each original', async () => {
    const copy = resultsOf('file-copy');
    for (const [i, fleetHost] of h.fleet.hosts.entries()) {
      const result = copy.find((r) => r.target.name === fleetHost.name);
      const content = await h.fleet.host(i).readFile(EXE);
      if (DENYING.has(i)) {
        expect(result).toMatchObject({ status: 'failed', exitCode: 5 });
        expect(result?.error?.message).toMatch(
          /^command ended with exit code 5: Access to the path 'C:\\Program Files\\StationController\\.*' is denied\.$/,
        );
        expect(content).toEqual(OLD_EXE);
      } else {
        expect(result).toMatchObject({ status: 'succeeded', facts: { sha256: sha256(newExe) } });
        expect(sha256(content ?? Buffer.alloc(0))).toBe(sha256(newExe));
        expect(await h.fleet.host(i).readFile(result?.facts?.backup ?? '')).toEqual(OLD_EXE);
      }
    }
  });

  it('rolls the 2 failed hosts back (service running again on the original file) and leaves them out of later steps', async () => {
    for (const i of DENYING) {
      const name = h.fleet.hosts[i]!.name;
      expect(resultsOf('start').some((r) => r.target.name === name)).toBe(false);
      expect(resultsOf('stop.rollback').find((r) => r.target.name === name)).toMatchObject({ status: 'succeeded' });
      expect(await h.fleet.host(i).readFile(EXE)).toEqual(OLD_EXE);
    }
    const column = (i: number) => job.progress!.targets.indexOf(h.fleet.hosts[i]!.name);
    const cells = (i: number) => job.progress!.matrix.map((row) => row[column(i)]).join('');
    // check, stop (undone), copy (failed), start and verify (skipped).
    for (const i of DENYING) expect(cells(i)).toBe('SRF--');
    expect(cells(0)).toBe('SSSSS');
    for (const i of h.fleet.hosts.keys()) expect(h.fleet.host(i).service('stationcontroller')?.status).toBe('Running');
    expect(resultsOf('verify').every((r) => r.status === 'succeeded')).toBe(true);
  });
});

describe('winrm plans that cannot reach their targets are refused with the field named', () => {
  it('refuses a Linux target, a Windows target without winrm, and one whose winrm service has no credential', async () => {
    const api = (path: string, body: unknown) =>
      requestJson(`${h.orchestrator.apiUrl}${path}`, { token: h.admin.token, body });
    await api('/api/inventory/targets', { name: 'lnx-01', address: '127.0.0.1', os: 'linux', services: [] });
    await api('/api/inventory/targets', { name: 'win-bare', address: '127.0.0.1', os: 'windows', services: [] });
    await api('/api/inventory/targets', {
      name: 'win-nocred',
      address: '127.0.0.1',
      os: 'windows',
      services: [{ protocol: 'winrm' }],
    });
    const cases: [string, RegExp][] = [
      ['lnx-01', /lnx-01 is a linux target; winrm steps run Windows operations/],
      ['win-bare', /win-bare has no winrm service/],
      ['win-nocred', /the winrm service of win-nocred has no credential/],
    ];
    for (const [name, message] of cases) {
      const plan = {
        name: 'bad',
        steps: [
          {
            id: 's',
            name: 's',
            targets: { targets: [name] },
            action: { method: 'winrm', operation: { op: 'command', program: 'hostname' } },
          },
        ],
      };
      const res = await requestJson<{ error: { issues: { path: string; message: string }[] } }>(
        `${h.orchestrator.apiUrl}/api/jobs`,
        { token: operator.token, body: { plan } },
      );
      expect(res.status, name).toBe(400);
      expect(res.body.error.issues.find((i) => i.path === 'plan.steps.0.targets')?.message).toMatch(message);
    }
  });
});
