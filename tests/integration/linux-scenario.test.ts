import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { PlanInput } from '@opsc/contracts';
import { requestJson, waitForJob, type JobView } from '../support/api.js';
import { approveAndWait, proposeAndFill, submitDraft, type Created } from '../support/rollout.js';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.js';

// The seed's Linux scenario, end to end: API -> Temporal workflow -> executor worker -> SSH -> 10 real
// sshd hosts; then the seed's "50+ targets simultaneously" as a 50-host parallel uptime.
let h: SshHarness;
let operator: { token: string };
let approver: { token: string };
let executorUrl: string;

const WEB = Array.from({ length: 10 }, (_, i) => i);
const ALL = Array.from({ length: 50 }, (_, i) => i);

beforeAll(async () => {
  h = await startSshHarness('linux-scenario', {
    size: 50,
    // Half the web servers log in with a password (sudo asks for it), half with a key.
    credential: (i) => (i % 2 === 0 ? 'password' : 'key'),
    host: (i) => ({
      sudo: i % 2 === 0 ? 'password' : 'nopasswd',
      files: { '/etc/nginx/nginx.conf': `# ${i}\nworker_processes auto;\n` },
    }),
    groups: { 'Production Web': WEB, 'All Linux': ALL },
  });
  executorUrl = (await h.stack.startExecutor({ EXECUTOR_MAX_CONCURRENT_ACTIVITIES: '100' })).healthUrl;
  operator = await h.stack.createUser('operator', { tenant: 'acme' });
  approver = await h.stack.createUser('approver', { tenant: 'acme' });
}, 240_000);

afterAll(async () => {
  await h?.close();
});

const submit = async (plan: PlanInput) => {
  const res = await requestJson<{ id: string; error?: unknown }>(`${h.orchestrator.apiUrl}/api/jobs`, {
    token: operator.token,
    body: { plan },
  });
  return res;
};

const REQUEST = "Update nginx to latest version on all web servers in 'Production Web' group and restart service";

describe('the seed Linux scenario over SSH, from the request text', () => {
  let job: JobView;

  beforeAll(async () => {
    const proposal = await proposeAndFill(h.orchestrator.apiUrl, operator.token, REQUEST);
    expect(proposal.draft.steps.map((s) => s.tool)).toEqual([
      'package-version',
      'config-backup',
      'package-update',
      'service-restart',
      'service-wait',
    ]);
    const created = await submitDraft(h.orchestrator.apiUrl, operator.token, proposal.draft);
    expect(created.approvalRequired).toBe(true);
    job = await approveAndWait(h.orchestrator.apiUrl, operator.token, approver.token, created, 180_000);
  }, 200_000);

  it('completes on all 10 web servers, step by step', () => {
    expect(job.status).toBe('completed');
    expect(job.targets.map((t) => t.name).sort()).toEqual(WEB.map((i) => h.fleet.hosts[i]!.name).sort());
    for (const step of job.progress!.steps)
      expect(step, step.id).toMatchObject({ status: 'succeeded', targets: { completed: 10, failed: 0 } });
    expect(job.results.filter((r) => r.status === 'succeeded')).toHaveLength(50);
    expect(job.progress!.matrix.every((row) => row === 'S'.repeat(10))).toBe(true);
    expect(job.approval).toMatchObject({ status: 'approved', comment: 'change window CHG-1234' });
  });

  it("records each target's version change and backup, and the hosts really changed", async () => {
    const byStep = (id: string) => job.results.filter((r) => r.stepId === id);
    for (const r of byStep('update'))
      expect(r.facts, r.target.name).toMatchObject({ previous_version: '1.22.1-9', version: '1.24.0-1' });
    const archives = byStep('backup-config').map((r) => r.facts?.archive);
    expect(archives.every((a) => typeof a === 'string' && a.endsWith('.tar.gz'))).toBe(true);
    for (const i of WEB) {
      const archive =
        byStep('backup-config').find((r) => r.target.name === h.fleet.hosts[i]!.name)?.facts?.archive ?? '';
      const check = await h.fleet.exec(i, `dpkg-query -W -f='\${Version}' nginx; echo; tar -tzf ${archive}`);
      expect(check.stdout).toContain('1.24.0-1\n');
      expect(check.stdout).toContain('./etc/nginx/nginx.conf');
    }
    // Hosts outside the group were not touched.
    expect((await h.fleet.exec(10, "dpkg-query -W -f='${Version}' nginx")).stdout).toBe('1.22.1-9');
  });

  it("keeps every secret out of workflow history and the services' logs", async () => {
    const history = JSON.stringify(await h.stack.client.workflow.getHandle(job.id).fetchHistory());
    const keyBody = h.fleet.clientKey.privateKey.split('\n')[2] ?? '';
    expect(keyBody.length).toBeGreaterThan(40);
    const logDir = inject('logDir');
    const logs = readdirSync(logDir)
      .filter((f) => f.startsWith(h.stack.namespace))
      .map((f) => readFileSync(path.join(logDir, f), 'utf8'))
      .join('\n');
    for (const haystack of [history, logs]) {
      expect(haystack).not.toContain(keyBody);
      for (const i of WEB) expect(haystack).not.toContain(h.fleet.hosts[i]!.password);
    }
  });
});

describe('50 targets at once', () => {
  it('runs uptime on 50 hosts in parallel', async () => {
    const started = Date.now();
    const created = await submit({
      name: 'uptime on every Linux host',
      policies: { maxParallel: 50 },
      steps: [
        {
          id: 'uptime',
          name: 'uptime',
          targets: { group: 'All Linux' },
          action: { method: 'ssh', operation: { op: 'run', argv: ['uptime'] } },
        },
      ],
    });
    expect(created.status).toBe(201);
    // `uptime` alone is an argv-exact read-only command: it needs no approver and starts at once.
    expect(created.body).toMatchObject({ approvalRequired: false });
    const job = await waitForJob(
      h.orchestrator.apiUrl,
      operator.token,
      (created.body as unknown as Created).id,
      undefined,
      120_000,
    );
    expect(job.status).toBe('completed');
    expect(job.results).toHaveLength(50);
    for (const r of job.results) expect(r.stdout, r.target.name).toMatch(/load average/);
    expect(new Set(job.results.map((r) => r.target.name)).size).toBe(50);
    console.info(`50-host uptime through Temporal: ${Date.now() - started} ms`);
  }, 150_000);

  it('keeps one pooled connection per target, visible in the executor metrics', async () => {
    const text = await (await fetch(`${executorUrl}/metrics`)).text();
    expect(text).toMatch(/opsc_executor_commands_total\{activity="runSshOperation",outcome="ok"\} [1-9]/);
    // 50 targets, each reached by one connection that every step and job since has reused.
    expect(text).toMatch(/^opsc_executor_ssh_connections 50$/m);
    expect(text).toMatch(/^opsc_executor_ssh_handshakes_in_flight 0$/m);
  });
});

describe('plans that cannot reach their targets are refused with the field named', () => {
  it('refuses an ssh step without targets, an unknown group and a target without ssh', async () => {
    const admin = h.admin.token;
    await requestJson(`${h.orchestrator.apiUrl}/api/inventory/targets`, {
      token: admin,
      body: { name: 'win-01', address: '127.0.0.1', os: 'windows', services: [] },
    });
    const cases: [PlanInput['steps'][number]['targets'], string, RegExp][] = [
      [undefined, 'plan.steps.0.targets', /needs targets/],
      [{ group: 'No Such Group' }, 'plan.steps.0.targets.group', /no such group/],
      [{ targets: ['win-01'] }, 'plan.steps.0.targets', /windows target/],
    ];
    for (const [targets, field, message] of cases) {
      const res = await submit({
        name: 'bad',
        steps: [
          {
            id: 's',
            name: 's',
            ...(targets && { targets }),
            action: { method: 'ssh', operation: { op: 'run', argv: ['true'] } },
          },
        ],
      });
      expect(res.status, field).toBe(400);
      const issues = (res.body as unknown as { error: { issues: { path: string; message: string }[] } }).error.issues;
      expect(issues.find((i) => i.path === field)?.message, JSON.stringify(issues)).toMatch(message);
    }
  });
});
