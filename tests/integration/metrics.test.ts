import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@opsc/dev';
import { eventually, requestJson, waitForJob } from '../support/api.js';
import { listenersOf } from '../support/listeners.js';
import { exposedFamilies, observabilityMetricNames } from '../support/observability-names.js';
import { startPrometheus, type RunningPrometheus } from '../support/prometheus.js';
import { control, proposeAndFill, submitDraft, type Created } from '../support/rollout.js';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.js';

const SCRAPE_DIR = path.join(REPO_ROOT, 'test-results', 'metrics');

/** Each sample of a Prometheus text exposition: its name and labels. */
const samplesOf = (text: string): { name: string; labels: Record<string, string> }[] =>
  text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)![0];
      const labels: Record<string, string> = {};
      const body = line.startsWith(`${name}{`) ? line.slice(name.length + 1, line.lastIndexOf('}')) : '';
      for (const m of body.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]!] = m[2]!;
      return { name, labels };
    });

/** A metric family's name: a histogram's or summary's series under one name. */
const familyOf = (name: string): string => name.replace(/_(bucket|sum|count)$/, '');

const MAX_SERIES_PER_FAMILY = 400;

/** A loopback port nobody listens on: bound by the kernel's choice, then closed. */
const closedPort = async (): Promise<number> => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
};

// PendingActivityState 2 = STARTED.
const STARTED = 2;

describe('metrics: both services scraped by a real Prometheus during a job on the SSH fleet', () => {
  let h: SshHarness;
  let prometheus: RunningPrometheus;
  let apiUrl: string;
  let orchestratorMetrics: string;
  let executorMetrics: string;
  let executorPid: number;
  let operator: { token: string; username: string; tenantId: string };
  let approver: { token: string; username: string };
  let jobId: string;
  const GROUP = 'Metrics Web';
  /** A target whose SSH port has no listener: its steps' activity raises HostUnreachable. */
  const DEAD = { name: 'metrics-dead', address: '127.0.0.1', port: 0 };
  const REQUEST = `Update nginx to latest version on all web servers in '${GROUP}' group and restart service`;

  const value = async (expr: string): Promise<number | undefined> => {
    const samples = await prometheus.query(expr);
    return samples.length ? samples.reduce((n, s) => n + s.value, 0) : undefined;
  };
  /** Waits until Prometheus answers `expr` with a value `ok` accepts (the scrapes are every second). */
  const until = (expr: string, ok: (v: number) => boolean, timeoutMs = 30_000) =>
    eventually(
      async () => {
        const v = await value(expr);
        return v !== undefined && ok(v) ? v : undefined;
      },
      timeoutMs,
      expr,
    );

  beforeAll(async () => {
    h = await startSshHarness('metrics', {
      size: 2,
      host: (i) => ({
        files: { '/etc/nginx/nginx.conf': `# ${i}\nworker_processes auto;\n` },
        packages: {
          nginx: { installed: '1.22.1-9', available: '1.24.0-1' },
          stationd: { installed: null, available: '2.0.1' },
        },
      }),
      groups: { [GROUP]: [0, 1] },
      // The reconciler records a job whose workflow was terminated within a second (default: a minute).
      orchestratorEnv: { JOB_RECONCILE_INTERVAL_SECONDS: '1' },
    });
    DEAD.port = await closedPort();
    await h.base.addTarget(
      {
        name: `${DEAD.name}-key`,
        username: 'ops',
        secret: { kind: 'ssh-key', privateKey: h.fleet.clientKey.privateKey },
      },
      {
        name: DEAD.name,
        address: DEAD.address,
        os: 'linux',
        services: [{ protocol: 'ssh', port: DEAD.port, credential: `${DEAD.name}-key` }],
      },
    );
    const executor = await h.stack.startExecutor();
    apiUrl = h.orchestrator.apiUrl;
    orchestratorMetrics = h.orchestrator.metricsUrl;
    executorMetrics = `${executor.healthUrl}/metrics`;
    executorPid = executor.service.pid;
    operator = await h.stack.createUser('operator');
    approver = await h.stack.createUser('approver');
    prometheus = await startPrometheus(h.stack.namespace, [
      { job: 'orchestrator', url: orchestratorMetrics },
      { job: 'executor', url: executorMetrics },
    ]);
  }, 240_000);

  afterAll(async () => {
    await prometheus?.stop();
    await h?.close();
  });

  it('scrapes both services, the Temporal SDK metrics of both workers among them', async () => {
    const targets = await eventually(
      async () => {
        const t = await prometheus.targets();
        return t.length === 2 && t.every((x) => x.health === 'up') ? t : undefined;
      },
      30_000,
      'both targets up',
    );
    expect(targets.map((t) => t.job).sort()).toEqual(['executor', 'orchestrator']);
    // The orchestrator's worker polls workflow and activity tasks; the executor's activity tasks.
    for (const job of ['orchestrator', 'executor']) {
      await until(`temporal_num_pollers{job="${job}"}`, (v) => v > 0);
      await until(`temporal_worker_task_slots_available{job="${job}"}`, (v) => v > 0);
    }
    await until('temporal_num_pollers{job="orchestrator",poller_type="sticky_workflow_task"}', (v) => v > 0);
    // The SDK's exporter is internal: each service listens on loopback only, the orchestrator on its
    // API, its metrics and the exporter, the executor on its health port and the exporter.
    const orchestratorPorts = listenersOf(h.orchestrator.service.pid);
    const executorPorts = listenersOf(executorPid);
    expect([...orchestratorPorts, ...executorPorts].filter((l) => l.address !== '127.0.0.1')).toEqual([]);
    expect(orchestratorPorts.map((l) => l.port)).toEqual(
      expect.arrayContaining([new URL(apiUrl).port, new URL(orchestratorMetrics).port].map(Number)),
    );
    expect(orchestratorPorts).toHaveLength(3);
    expect(executorPorts).toHaveLength(2);
    // The API is not the metrics port: /metrics there is no route.
    expect((await fetch(`${apiUrl}/metrics`)).status).toBe(404);
  });

  it('counts a real job: approval wait, finished, steps and targets, API and planner latency', async () => {
    const proposal = await proposeAndFill(apiUrl, operator.token, REQUEST);
    const created = await submitDraft(apiUrl, operator.token, proposal.draft);
    jobId = created.id;
    expect(created.approvalRequired).toBe(true);
    await until('opsc_approvals_waiting', (v) => v === 1);
    await until('opsc_approval_oldest_wait_seconds', (v) => v > 0);
    await until('opsc_jobs{status="awaiting_approval"}', (v) => v === 1);
    const approved = await control(apiUrl, approver.token, jobId, 'approve', { planHash: created.planHash });
    expect(approved.status).toBe(200);
    const job = await waitForJob(apiUrl, operator.token, jobId, undefined, 180_000);
    expect(job.status).toBe('completed');
    const verdicts = job.results.filter((r) => r.status === 'succeeded').length;
    expect(verdicts).toBeGreaterThanOrEqual(4);
    // An unknown route, signed in and not: one "unmatched" route label, whatever the path.
    const unmatched = await fetch(`${apiUrl}/api/no-such-route/${jobId}`, {
      headers: { authorization: `Bearer ${operator.token}` },
    });
    expect(unmatched.status).toBe(404);
    expect((await fetch(`${apiUrl}/no-such-route/${jobId}`)).status).toBe(404);

    await until('opsc_jobs_finished_total{job="orchestrator",status="completed"}', (v) => v === 1);
    await until('opsc_jobs{status="completed"}', (v) => v === 1);
    await until('opsc_approvals_waiting', (v) => v === 0);
    await until('opsc_approval_oldest_wait_seconds', (v) => v === 0);
    await until('opsc_targets_finished_total{outcome="completed"}', (v) => v === 2);
    await until('opsc_steps_finished_total{outcome="succeeded"}', (v) => v === verdicts);
    await until('opsc_undo_actions_total{outcome="failed"}', (v) => v === 0);
    await until('opsc_executor_pools_quiet', (v) => v === 0);
    await until(
      'opsc_api_request_duration_seconds_count{method="POST",route="/api/jobs",status="201"}',
      (v) => v === 1,
    );
    await until(
      'opsc_api_request_duration_seconds_count{method="GET",route="/api/jobs/:id",status="200"}',
      (v) => v >= 1,
    );
    await until('opsc_api_request_duration_seconds_count{method="POST",route="/api/jobs/:id/approve"}', (v) => v === 1);
    await until('opsc_api_request_duration_seconds_count{route="unmatched",status="404"}', (v) => v >= 2);
    await until('opsc_planner_duration_seconds_count{planner="builtin",outcome=~"ready|needs-input"}', (v) => v === 1);
    await until('opsc_orchestrator_process_resident_memory_bytes', (v) => v > 0);
    // The executor: activity latency by activity, its SSH pool and output lines, and the SDK's activity timing.
    await until('sum(opsc_executor_command_duration_seconds_count{job="executor"})', (v) => v >= verdicts);
    await until('sum(opsc_executor_commands_total{outcome="ok"})', (v) => v >= verdicts);
    await until('opsc_executor_ssh_connections', (v) => v >= 1);
    await until('opsc_executor_winrm_commands_running', (v) => v === 0);
    await until('opsc_executor_output_lines_written_total', (v) => v >= 1);
    await until('sum(temporal_activity_schedule_to_start_latency_count{job="executor"})', (v) => v >= verdicts);
    await until('sum(temporal_activity_execution_latency_count{job="executor"})', (v) => v >= verdicts);
    await until('sum(temporal_workflow_task_schedule_to_start_latency_count{job="orchestrator"})', (v) => v >= 1);
    await until('temporal_sticky_cache_size{job="orchestrator"}', (v) => v >= 0);
    await until('sum(temporal_worker_task_slots_used{job="executor"})', (v) => v >= 0);
  });

  it('counts a failed job whose changes were undone: undo actions, rolled-back targets, failed verdicts', async () => {
    const created = await submitDraft(apiUrl, operator.token, {
      name: 'install stationd, then a package that fails to install',
      policies: { rollback: 'target', continueOnFailure: true, maxFailPercentage: 100 },
      steps: [
        { id: 'stationd', tool: 'package-install', params: { package: 'stationd' }, targets: { group: GROUP } },
        { id: 'agent', tool: 'package-install', params: { package: 'broken-agent' }, targets: { group: GROUP } },
      ],
    });
    await waitForJob(apiUrl, operator.token, created.id, (j) => j.status === 'awaiting_approval', 30_000);
    const approved = await control(apiUrl, approver.token, created.id, 'approve', { planHash: created.planHash });
    expect(approved.status).toBe(200);
    expect((await waitForJob(apiUrl, operator.token, created.id, undefined, 120_000)).status).toBe('failed');
    await until('opsc_jobs_finished_total{status="failed"}', (v) => v === 1);
    await until('opsc_jobs_finished_total{status="completed"}', (v) => v === 1);
    await until('opsc_undo_actions_total{outcome="ok"}', (v) => v === 2);
    await until('opsc_undo_actions_total{outcome="failed"}', (v) => v === 0);
    await until('opsc_targets_finished_total{outcome="rolled_back"}', (v) => v === 2);
    await until('opsc_steps_finished_total{outcome="failed"}', (v) => v === 2);
    await until('opsc_jobs{status="failed"}', (v) => v === 1);
    await until(
      'sum(opsc_executor_commands_total{activity="runSshOperation",outcome=~"nonzero_exit|error"})',
      (v) => v >= 2,
    );
  });

  /** Submits a raw plan as the operator and approves it when it waits for that. */
  const runPlan = async (plan: Record<string, unknown>): Promise<Created> => {
    const { status, body } = await requestJson<Created>(`${apiUrl}/api/jobs`, {
      token: operator.token,
      body: { plan },
    });
    expect(status, JSON.stringify(body)).toBe(201);
    if (body.approvalRequired) {
      await waitForJob(apiUrl, operator.token, body.id, (j) => j.status === 'awaiting_approval', 30_000);
      const approved = await control(apiUrl, approver.token, body.id, 'approve', { planHash: body.planHash });
      expect(approved.status).toBe(200);
    }
    return body;
  };

  it('counts an activity that raised: the executor failure by error type, and the SDK failed execution', async () => {
    const created = await runPlan({
      name: 'disk usage on a host nobody answers on',
      policies: { maxAttempts: 1 },
      steps: [
        {
          id: 'df',
          name: 'disk usage',
          targets: { targets: [DEAD.name] },
          action: { method: 'ssh', operation: { op: 'disk-usage' } },
        },
      ],
    });
    const job = await waitForJob(apiUrl, operator.token, created.id, undefined, 60_000);
    expect(job.status).toBe('failed');
    expect(job.results[0]).toMatchObject({ status: 'failed', error: { type: 'HostUnreachable' } });
    await until(
      'opsc_executor_failures_total{job="executor",activity="runSshOperation",error_type="HostUnreachable"}',
      (v) => v === 1,
    );
    await until('temporal_activity_execution_failed{job="executor",activity_type="runSshOperation"}', (v) => v >= 1);
  });

  it("counts the executor's failed calls to Temporal: a heartbeat for an activity whose workflow was terminated", async () => {
    const created = await runPlan({
      name: 'a long wait',
      policies: { maxAttempts: 1 },
      steps: [
        {
          id: 'wait',
          name: 'wait',
          timeoutSeconds: 120,
          action: { method: 'local-command', command: 'sleep', args: ['90'] },
        },
      ],
    });
    const handle = h.stack.client.workflow.getHandle(created.id);
    await eventually(
      async () =>
        ((await handle.describe()).raw.pendingActivities ?? []).some((a) => a.state === STARTED) ? true : undefined,
      30_000,
      'the sleep running on the executor',
    );
    await handle.terminate('metrics test: the heartbeat that follows finds no activity');
    // The executor's next heartbeat is answered NOT_FOUND; the SDK cancels the activity, the sleep ends.
    await until(
      'sum(temporal_request_failure{job="executor",operation="RecordActivityTaskHeartbeat",status_code="NOT_FOUND"})',
      (v) => v >= 1,
    );
    await until('sum(temporal_worker_task_slots_used{job="executor",worker_type="ActivityWorker"})', (v) => v === 0);
    // The job record is closed by the reconciler, not left running.
    const job = (await waitForJob(apiUrl, operator.token, created.id, undefined, 60_000)) as unknown as {
      status: string;
      error?: { type: string };
    };
    expect(job.status).toBe('failed');
    expect(job.error?.type).toBe('WorkflowClosed');
    // A job the reconciler closes counts as finished like any other (the failed-job rate sees it).
    // Every failed job of the run, as the database has them: each counted once, the reconciled one included.
    const failed = await requestJson<{ jobs: unknown[] }>(`${apiUrl}/api/jobs?status=failed&limit=100`, {
      token: operator.token,
    });
    expect(failed.status).toBe(200);
    expect(failed.body.jobs.length).toBeGreaterThanOrEqual(3);
    await until('opsc_jobs_finished_total{status="failed"}', (v) => v === failed.body.jobs.length);
  });

  it('emits every metric the alert rules and the dashboard name', async () => {
    const exposed = new Set<string>();
    mkdirSync(SCRAPE_DIR, { recursive: true });
    for (const [service, url] of [
      ['orchestrator', orchestratorMetrics],
      ['executor-worker', executorMetrics],
    ] as const) {
      const text = await (await fetch(url)).text();
      // Kept for whoever reads the run (test-results/metrics/): what each service exposed after the jobs.
      writeFileSync(path.join(SCRAPE_DIR, `${service}.prom`), text);
      for (const family of exposedFamilies(text)) exposed.add(family);
    }
    const named = observabilityMetricNames();
    expect(named.length).toBeGreaterThan(20);
    expect(named).toEqual(
      expect.arrayContaining([
        'temporal_request_failure',
        'temporal_activity_execution_failed',
        'opsc_executor_failures_total',
      ]),
    );
    expect(named.filter((n) => !exposed.has(n))).toEqual([]);
  });

  it('keeps labels bounded: no target, address, job, tenant, user or request text in any label', async () => {
    const forbidden = [
      ...h.fleet.hosts.flatMap((host) => [host.name, host.address]),
      DEAD.name,
      `${DEAD.address}:${DEAD.port}`,
      jobId,
      operator.tenantId,
      operator.username,
      approver.username,
      GROUP,
      'nginx',
      'no-such-route',
    ];
    for (const url of [orchestratorMetrics, executorMetrics]) {
      const samples = samplesOf(await (await fetch(url)).text());
      expect(samples.length).toBeGreaterThan(50);
      for (const s of samples)
        for (const [label, v] of Object.entries(s.labels))
          for (const f of forbidden) expect(v.includes(f), `${s.name}{${label}="${v}"} holds ${f}`).toBe(false);
      const families = new Map<string, number>();
      for (const s of samples) families.set(familyOf(s.name), (families.get(familyOf(s.name)) ?? 0) + 1);
      for (const [family, n] of families) expect(n, `${family} series`).toBeLessThanOrEqual(MAX_SERIES_PER_FAMILY);
      expect(
        samples.some((s) => s.name.startsWith('temporal_')),
        `${url} has the SDK metrics`,
      ).toBe(true);
      expect(
        samples.some((s) => s.name.startsWith('opsc_')),
        `${url} has the product metrics`,
      ).toBe(true);
    }
    const routes = new Set(
      samplesOf(await (await fetch(orchestratorMetrics)).text())
        .filter((s) => s.name === 'opsc_api_request_duration_seconds_count')
        .map((s) => s.labels.route),
    );
    expect(routes).toContain('unmatched');
    // Figures for docs/metrics.md: what each scrape holds and takes.
    for (const m of ['scrape_samples_scraped', 'scrape_duration_seconds'])
      for (const sample of await prometheus.query(m)) console.info(`${m}{job="${sample.metric.job}"} ${sample.value}`);
    for (const r of routes) expect(r === 'unmatched' || /^\/api(\/[a-z-]+|\/:[a-zA-Z]+)*$/.test(r!), r).toBe(true);
  });
});
