import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, waitForJob, type JobView } from '../support/api.js';
import { control, submitDraft } from '../support/rollout.js';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.js';
import { uploadArtifact } from '../support/artifacts.js';

// Rollback accounting on 3 real sshd hosts: a step that failed without changing a host gets no
// undo (and no false "ROLLBACK FAILED"), and a host is "rolled back" only when every one of its
// changes was undone; otherwise the job says it is half-changed, and what was and was not undone.
const SIZE = 3;
const APP = '/opt/app/app.conf';
const OLD = 'version=1\n';
const NEW = 'version=2\n';
/** The host whose backup someone removes while the job runs. */
const CLEANED = 1;

let h: SshHarness;
let apiUrl: string;
let operator: { token: string };
let approver: { token: string };

const everyHost = { group: 'Fleet' };
const names = () => h.fleet.hosts.map((host) => host.name);
const packageVersion = async (i: number, name: string) =>
  (await h.fleet.exec(i, `dpkg-query -W -f='\${Version}' ${name}`)).stdout;
const nginxActive = async (i: number) => (await h.fleet.exec(i, 'systemctl is-active nginx')).stdout.trim();

/** Submits a draft, approves it and returns its id. */
const start = async (draft: unknown): Promise<string> => {
  const created = await submitDraft(apiUrl, operator.token, draft);
  await waitForJob(apiUrl, operator.token, created.id, (j) => j.status === 'awaiting_approval', 30_000);
  const approved = await control(apiUrl, approver.token, created.id, 'approve', { planHash: created.planHash });
  expect(approved.status).toBe(200);
  return created.id;
};

const column = (job: JobView, i: number) =>
  job.progress!.matrix.map((row) => row[job.progress!.targets.indexOf(h.fleet.hosts[i]!.name)]).join('');

beforeAll(async () => {
  h = await startSshHarness('rollback-accounting', {
    size: SIZE,
    host: () => ({
      files: { [APP]: OLD },
      packages: {
        nginx: { installed: '1.22.1-9', available: '1.24.0-1' },
        stationd: { installed: null, available: '2.0.1' },
      },
    }),
    groups: { Fleet: Array.from({ length: SIZE }, (_, i) => i) },
  });
  apiUrl = h.orchestrator.apiUrl;
  await uploadArtifact(h.orchestrator.apiUrl, h.admin.token, 'app/app.conf', NEW);
  await h.stack.startExecutor();
  operator = await h.stack.createUser('operator', { tenant: 'acme' });
  approver = await h.stack.createUser('approver', { tenant: 'acme' });
}, 240_000);

afterAll(async () => {
  await h?.close();
});

describe('a step that failed without changing the host', () => {
  it('gets no undo: the package it failed to install is not "removed", no ROLLBACK FAILED, the real change is undone and the job fails truthfully', async () => {
    const id = await start({
      name: 'install stationd, then a package that fails to install',
      policies: { rollback: 'target', continueOnFailure: true, maxFailPercentage: 100 },
      steps: [
        { id: 'stationd', tool: 'package-install', params: { package: 'stationd' }, targets: everyHost },
        // Not in any repository the hosts know: apt fails before anything is unpacked.
        { id: 'agent', tool: 'package-install', params: { package: 'broken-agent' }, targets: everyHost },
      ],
    });
    const job = await waitForJob(apiUrl, operator.token, id, undefined, 120_000);
    expect(job.status).toBe('failed');
    const results = (stepId: string) => job.results.filter((r) => r.stepId === stepId);
    expect(results('agent').map((r) => [r.status, r.exitCode, r.facts?.previous_version, r.facts?.version])).toEqual(
      names().map(() => ['failed', 100, '', '']),
    );
    // Its own undo never ran; the install that did change each host was undone.
    expect(results('agent.rollback')).toEqual([]);
    expect(results('stationd.rollback').map((r) => r.status)).toEqual(names().map(() => 'succeeded'));
    const progress = job.progress!;
    expect(progress.targetStates).toEqual(names().map(() => 'rolled_back'));
    for (const i of h.fleet.hosts.keys()) expect(column(job, i)).toBe('RF');
    expect(progress.rollback).toMatchObject({ undone: SIZE, failed: 0, failures: [], halfChanged: [] });
    expect(progress.logs.filter((l) => /ROLLBACK FAILED|HALF-CHANGED|half-changed/.test(l.message))).toEqual([]);
    expect(job.outcome).toMatchObject({
      targets: { total: SIZE, rolledBack: SIZE, rollbackFailed: 0 },
      compensationFailures: 0,
      halfChanged: [],
    });
    for (const i of h.fleet.hosts.keys()) {
      expect(await packageVersion(i, 'stationd')).toBe('');
      expect(await packageVersion(i, 'broken-agent')).toBe('');
    }
  }, 180_000);
});

describe('a host whose changes were not all undone', () => {
  it('is reported half-changed, with what was and was not undone, not rolled back', async () => {
    const id = await start({
      name: 'stop, copy, verify',
      policies: { rollback: 'target', continueOnFailure: true, maxFailPercentage: 100 },
      steps: [
        { id: 'stop', tool: 'service-stop', params: { service: 'nginx' }, targets: everyHost },
        { id: 'copy', tool: 'file-copy', params: { source: 'app/app.conf', destination: APP }, targets: everyHost },
        // The check the operator wrote fails everywhere, once the test has done its part.
        {
          id: 'verify',
          tool: 'run-script',
          params: { script: `while [ ! -e /tmp/go ]; do sleep 0.2; done; grep -q version=3 ${APP}` },
          targets: everyHost,
        },
      ],
    });
    // While the job runs, someone cleans up /var/backups on one host: the copy's undo cannot work there.
    const backup = await eventually(
      async () => {
        const { rows } = await h.stack.pool.query<{ backup: string | null }>(
          `SELECT facts->>'backup' AS backup FROM step_results WHERE job_id = $1 AND step_id = 'copy' AND target_id = $2 AND facts ? 'backup'`,
          [id, h.targetIds[CLEANED]],
        );
        return rows[0]?.backup ?? undefined;
      },
      60_000,
      'the backup of the copy on the cleaned host',
    );
    expect((await h.fleet.exec(CLEANED, `sudo -n rm -f -- '${backup}'`)).code).toBe(0);
    for (const i of h.fleet.hosts.keys()) expect((await h.fleet.exec(i, 'touch /tmp/go')).code).toBe(0);

    const job = await waitForJob(apiUrl, operator.token, id, undefined, 120_000);
    expect(job.status).toBe('failed');
    const progress = job.progress!;
    const cleaned = h.fleet.hosts[CLEANED]!.name;
    expect(progress.targetStates).toEqual(names().map((_, i) => (i === CLEANED ? 'rollback_failed' : 'rolled_back')));
    // stop undone, copy not undone, verify failed.
    expect(column(job, CLEANED)).toBe('RXF');
    expect(column(job, 0)).toBe('RRF');
    expect(progress.targetProgress.rolledBack).toBe(SIZE - 1);
    expect(progress.rollback.halfChanged).toEqual([{ target: cleaned, undone: ['stop'], notUndone: ['copy'] }]);
    expect(progress.rollback.failures).toEqual([
      {
        target: cleaned,
        stepId: 'copy',
        message: expect.stringMatching(
          /^undo of ".*" \(.*\) failed: CommandFailed: command ended with exit code 2: backup .* is missing/,
        ),
      },
    ]);
    expect(
      progress.logs.some(
        (l) =>
          l.level === 'error' &&
          l.target === cleaned &&
          l.message === 'HALF-CHANGED: 1 change(s) not undone (copy); undone: stop',
      ),
    ).toBe(true);
    // The job's stored record says so too, after its workflow's history is gone.
    expect(job.outcome).toMatchObject({
      targets: { total: SIZE, rolledBack: SIZE - 1, rollbackFailed: 1 },
      compensationFailures: 1,
      halfChanged: progress.rollback.halfChanged,
    });
    expect(job.events.filter((e) => e.action === 'compensation-failed')).toHaveLength(1);
    // What the report says is what the hosts are: the cleaned one runs the new file, the others the old.
    for (const i of h.fleet.hosts.keys()) {
      expect((await h.fleet.exec(i, `cat ${APP}`)).stdout).toBe(i === CLEANED ? NEW : OLD);
      expect(await nginxActive(i)).toBe('active');
    }
  }, 180_000);
});
