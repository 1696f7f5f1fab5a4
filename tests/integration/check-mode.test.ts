import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactCacheDir } from '@opsc/activities/execution';
import { startWinrmFleet, type WinrmFleet } from '@opsc/testkit';
import { requestJson, waitForJob, type JobView } from '../support/api.js';
import { uploadArtifact } from '../support/artifacts.js';
import { registerWinrmHosts } from '../support/winrm-harness.js';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.js';

// Check mode on a real sshd fleet and a WinRM fleet: each target answers what the change would do
// (a service running or not, a file with another hash, a package installed or not), and no host
// changed: services, packages and files are as they were, and nothing was backed up.
const APP = '/opt/app/app.bin';
const EXE = 'C:\\Station\\station.exe';

let h: SshHarness;
let win: WinrmFleet;
let operator: string;
let job: JobView;
let facts: Map<string, Record<string, string>>;

const snapshotLinux = async (i: number) =>
  (
    await h.fleet.exec(
      i,
      `systemctl is-active nginx; dpkg-query -W -f='\${Version}\\n' nginx htop 2>&1; sha256sum ${APP}; ls /var/backups/opsc 2>&1`,
    )
  ).stdout;

beforeAll(async () => {
  h = await startSshHarness('check-mode', {
    size: 2,
    host: (i) => ({
      services: { nginx: i === 0 ? 'active' : 'inactive' },
      packages:
        i === 0
          ? { nginx: { installed: '1.22.1-9', available: '1.24.0-1' }, htop: { installed: null, available: '3.2.2-2' } }
          : {
              nginx: { installed: '1.24.0-1', available: '1.24.0-1' },
              htop: { installed: '3.2.2-2', available: '3.2.2-2' },
            },
      files: { [APP]: i === 0 ? 'old build\n' : 'new build\n' },
    }),
    groups: { Web: [0, 1] },
  });
  win = await startWinrmFleet({
    size: 2,
    firstOctet: 64,
    host: (i) => ({
      services: [{ name: 'StationCtl', image: 'station.exe', path: EXE, status: i === 0 ? 'Running' : 'Stopped' }],
      files: { [EXE]: i === 0 ? 'old build\n' : 'new build\n' },
    }),
  });
  await registerWinrmHosts(h.orchestrator.apiUrl, h.admin.token, win, 'check-mode');
  const api = (p: string, body: unknown) => requestJson(`${h.orchestrator.apiUrl}${p}`, { token: h.admin.token, body });
  expect((await api('/api/inventory/groups', { name: 'Stations', targets: win.hosts.map((x) => x.name) })).status).toBe(
    201,
  );
  await h.stack.startExecutor();
  operator = (await h.stack.createUser('operator', { tenant: 'acme' })).token;
  // The artifact the copies would send, in the operator's tenant's store.
  await uploadArtifact(h.orchestrator.apiUrl, operator, 'app.bin', 'new build\n');
  const before = await Promise.all([0, 1].map(snapshotLinux));
  const web = { group: 'Web' };
  const stations = { group: 'Stations' };
  const draft = {
    name: 'Deploy the new build',
    steps: [
      { id: 'stop', tool: 'service-stop', params: { service: 'nginx' }, targets: web },
      { id: 'copy', tool: 'file-copy', params: { source: 'app.bin', destination: APP }, targets: web },
      { id: 'install', tool: 'package-install', params: { package: 'htop' }, targets: web },
      { id: 'update', tool: 'package-update', params: { package: 'nginx' }, targets: web },
      { id: 'script', tool: 'run-script', params: { script: 'touch /tmp/ran' }, targets: web },
      { id: 'wstop', tool: 'service-stop', params: { service: 'StationCtl' }, targets: stations },
      { id: 'wcopy', tool: 'file-copy', params: { source: 'app.bin', destination: EXE }, targets: stations },
    ],
  };
  const created = await requestJson<{ id: string; approvalRequired: boolean; mode: string }>(
    `${h.orchestrator.apiUrl}/api/jobs`,
    { token: operator, body: { draft, mode: 'check' } },
  );
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ approvalRequired: false, mode: 'check' });
  job = await waitForJob(h.orchestrator.apiUrl, operator, created.body.id, undefined, 120_000);
  facts = new Map(job.results.map((r) => [`${r.stepId}@${r.target.name}`, r.facts ?? {}]));
  // Nothing changed on the Linux hosts: same services, packages, file and no backup.
  expect(await Promise.all([0, 1].map(snapshotLinux))).toEqual(before);
}, 300_000);

afterAll(async () => {
  await win?.stop();
  await h?.close();
});

const linux = (i: number) => h.fleet.hosts[i]!.name;
const windows = (i: number) => win.hosts[i]!.name;

describe('a check-mode job on real hosts', () => {
  it('completes with no approval, and reports would change / no change / would run per target', () => {
    expect(job.status).toBe('completed');
    expect(job.progress?.mode).toBe('check');
    expect(job.progress?.approval.status).toBe('not_required');
    const ids = job.progress!.steps.map((s) => s.id);
    const at = (step: string, target: string) =>
      job.progress!.checks![ids.indexOf(step)]![job.progress!.targets.indexOf(target)];
    expect([at('stop', linux(0)), at('stop', linux(1))]).toEqual(['C', 'N']);
    expect([at('copy', linux(0)), at('copy', linux(1))]).toEqual(['C', 'N']);
    expect([at('install', linux(0)), at('install', linux(1))]).toEqual(['C', 'N']);
    expect([at('update', linux(0)), at('update', linux(1))]).toEqual(['C', 'N']);
    expect([at('script', linux(0)), at('script', linux(1))]).toEqual(['U', 'U']);
    expect([at('wstop', windows(0)), at('wstop', windows(1))]).toEqual(['C', 'N']);
    expect([at('wcopy', windows(0)), at('wcopy', windows(1))]).toEqual(['C', 'N']);
  });

  it('says what each verdict rests on: states, versions, hashes, backups', () => {
    expect(facts.get(`stop@${linux(0)}`)).toMatchObject({ state: 'active', wanted: 'inactive', would_change: 'yes' });
    expect(facts.get(`stop@${linux(1)}`)).toMatchObject({ state: 'inactive', would_change: 'no' });
    expect(facts.get(`copy@${linux(0)}`)).toMatchObject({ would_change: 'yes', backup: 'would be created' });
    expect(facts.get(`copy@${linux(0)}`)?.target_sha256).not.toBe(facts.get(`copy@${linux(0)}`)?.artifact_sha256);
    expect(facts.get(`copy@${linux(1)}`)?.target_sha256).toBe(facts.get(`copy@${linux(1)}`)?.artifact_sha256);
    expect(facts.get(`install@${linux(0)}`)).toMatchObject({
      installed: '',
      available: '3.2.2-2',
      would_change: 'yes',
    });
    expect(facts.get(`install@${linux(1)}`)).toMatchObject({ installed: '3.2.2-2', would_change: 'no' });
    expect(facts.get(`update@${linux(0)}`)).toMatchObject({
      installed: '1.22.1-9',
      available: '1.24.0-1',
      would_change: 'yes',
    });
    expect(facts.get(`wstop@${windows(0)}`)).toMatchObject({ state: 'Running', would_change: 'yes' });
    expect(facts.get(`wstop@${windows(1)}`)).toMatchObject({ state: 'Stopped', would_change: 'no' });
    expect(facts.get(`wcopy@${windows(0)}`)).toMatchObject({ would_change: 'yes', backup: 'would be created' });
    // A script's effect cannot be known: nothing ran, so nothing was stored by an executor.
    expect(facts.get(`script@${linux(0)}`) ?? {}).toEqual({});
    const log = job.progress!.logs.map((l) => `${l.stepId}@${l.target}: ${l.message}`);
    expect(log).toContain(`stop@${linux(0)}: would change: state active vs inactive`);
    expect(log).toContain(`update@${linux(1)}: no change: package 1.24.0-1 vs 1.24.0-1`);
  });

  it('changed nothing on any host: no service moved, no script ran, no file or backup written', async () => {
    for (const i of [0, 1]) {
      const moved = (await h.fleet.readJournal(i)).filter((e) => !String(e.action).startsWith('boot'));
      expect(moved, linux(i)).toEqual([]);
      expect((await h.fleet.exec(i, 'ls /tmp/ran 2>&1 || true')).stdout).toMatch(/No such file/);
    }
    expect(win.host(0).service('StationCtl')?.status).toBe('Running');
    expect(win.host(1).service('StationCtl')?.status).toBe('Stopped');
    for (const i of [0, 1]) {
      expect((await win.host(i).files.read(EXE))?.toString()).toBe(i === 0 ? 'old build\n' : 'new build\n');
      expect(await win.host(i).files.exists('C:\\ProgramData\\OpsConductor\\backups')).toBe(false);
    }
  });

  it("fetched no artifact: the copies' checks compare with the pinned SHA-256, and the executor's store cache stays empty", async () => {
    const cached = await readdir(artifactCacheDir(h.stack.artifactDir)).catch(() => [] as string[]);
    expect(cached).toEqual([]);
    const pinned = facts.get(`copy@${linux(0)}`)?.artifact_sha256;
    expect(pinned).toMatch(/^[0-9a-f]{64}$/);
    expect(facts.get(`wcopy@${windows(1)}`)?.artifact_sha256).toBe(pinned);
    expect(facts.get(`wcopy@${windows(1)}`)).toMatchObject({ would_change: 'no' });
  });
});
