import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually, requestJson, waitForJob, type JobView } from '../support/api.js';
import { startOtelCollector, type OtelCollector, type ReceivedSpan } from '../support/otel-collector.js';
import { approveAndWait, control, proposeAndFill, submitDraft, type Created } from '../support/rollout.js';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.js';
import { EXE, REQUEST, SIZE, seedWindowsFleet } from '../support/seed-windows-fleet.js';
import { startWinrmHarness, type WinrmHarness } from '../support/winrm-harness.js';
import { uploadArtifact } from '../support/artifacts.js';
import { launchChromium, openUserPage, reserveWebPort, signIn, startTestWeb } from '../support/web.js';

// Traces end to end (docs/tracing.md): the orchestrator and the executor, started with the standard
// OTLP variable, send their spans to a real OpenTelemetry Collector (built from its Go modules) on
// loopback, whose file exporter writes what it received. One job is one trace: the API request, the
// workflow start, the workflow, each activity and the call to each target.
const TRACE_UI = 'http://127.0.0.1:16686/trace/{traceId}';
let collector: OtelCollector;
let tracedEnv: Record<string, string>;

beforeAll(async () => {
  collector = await startOtelCollector();
  tracedEnv = { OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint };
}, 20 * 60_000);

afterAll(async () => {
  await collector?.stop();
});

const byId = (spans: ReceivedSpan[]) => new Map(spans.map((s) => [s.spanId, s]));
const traceOf = (traceId: string) => collector.spans().filter((s) => s.traceId === traceId);
const countBy = (spans: ReceivedSpan[], key: (s: ReceivedSpan) => string) =>
  spans.reduce<Record<string, number>>((acc, s) => ({ ...acc, [key(s)]: (acc[key(s)] ?? 0) + 1 }), {});

/** Polls the collector's file until the job's trace holds its workflow's span and `enough` holds. */
const waitForTrace = (traceId: string, enough: (spans: ReceivedSpan[]) => boolean) =>
  eventually(
    async () => {
      const spans = traceOf(traceId);
      return spans.some((s) => s.name === 'RunWorkflow:runJob') && enough(spans) ? spans : undefined;
    },
    60_000,
    `the spans of trace ${traceId}`,
  );

/** Every span but the API request's has its parent in the same trace, so the trace is one tree. */
const expectOneTree = (spans: ReceivedSpan[], root: ReceivedSpan) => {
  const ids = byId(spans);
  for (const span of spans) if (span !== root) expect(ids.has(span.parentSpanId), span.name).toBe(true);
  expect(root.parentSpanId).toBe('');
};

/** A service's JSON lines in the run's log folder (tests/support/stack.ts writes them there). */
const logLines = async (namespace: string, name: 'orchestrator' | 'executor') =>
  (await readFile(path.join(inject('logDir'), `${namespace}-${name}.log`), 'utf8'))
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const jobTraceId = async (apiUrl: string, token: string, id: string) => {
  const { body } = await requestJson<{ traceId: string | null; links: { traceUi: string | null } }>(
    `${apiUrl}/api/jobs/${id}`,
    { token },
  );
  return body;
};

describe('a job on the sshd fleet is one trace across orchestrator and executor', () => {
  let h: SshHarness;
  let operator: { token: string };
  let approver: { token: string };
  let job: JobView;
  let created: Created;
  let webPort: Awaited<ReturnType<typeof reserveWebPort>>;
  const PASSWORD = 'a long test password 1';
  // Planted in the job's script and request: no span may carry a command, an output or a request.
  const planted = `planted-${randomBytes(8).toString('hex')}`;

  beforeAll(async () => {
    webPort = await reserveWebPort();
    h = await startSshHarness('tracing', {
      size: 3,
      credential: (i) => (i === 0 ? 'password' : 'key'),
      host: (i) => ({ sudo: i === 0 ? 'password' : 'nopasswd' }),
      groups: { Traced: [0, 1, 2] },
      orchestratorEnv: { ...tracedEnv, ...webPort.orchestratorEnv, OTEL_TRACE_UI_URL: TRACE_UI, LOG_LEVEL: 'debug' },
    });
    // At debug, every activity ends with a line of its own in its log context (docs/logging.md).
    await h.stack.startExecutor({ ...tracedEnv, LOG_LEVEL: 'debug' });
    operator = await h.stack.createUser('operator', { tenant: 'acme', username: 'traced-op', password: PASSWORD });
    approver = await h.stack.createUser('approver', { tenant: 'acme' });
    const plan = {
      name: 'traced change',
      steps: [
        {
          id: 'append',
          name: 'Append a line',
          targets: { group: 'Traced' },
          action: { method: 'ssh', operation: { op: 'script', shell: 'sh', script: `echo ${planted}` } },
        },
      ],
    };
    const res = await requestJson<Created>(`${h.orchestrator.apiUrl}/api/jobs`, {
      token: operator.token,
      body: { plan },
    });
    expect(res.status).toBe(201);
    created = res.body;
    const approved = await control(h.orchestrator.apiUrl, approver.token, created.id, 'approve', {
      planHash: created.planHash,
    });
    expect(approved.status).toBe(200);
    job = await waitForJob(h.orchestrator.apiUrl, operator.token, created.id, undefined, 120_000);
    expect(job.status).toBe('completed');
    expect(job.results.map((r) => r.stdout)).toEqual([`${planted}\n`, `${planted}\n`, `${planted}\n`]);
  }, 300_000);

  afterAll(async () => {
    await h?.close();
  });

  it('stores the trace id on the job and links it to the trace viewer', async () => {
    const { traceId, links } = await jobTraceId(h.orchestrator.apiUrl, operator.token, created.id);
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(links.traceUi).toBe(TRACE_UI.replace('{traceId}', traceId!));
  });

  it("shows the trace in the job's monitor, linked to the trace viewer", async () => {
    const { traceId } = await jobTraceId(h.orchestrator.apiUrl, operator.token, created.id);
    const web = await startTestWeb(h.stack.namespace, h.orchestrator.apiUrl, webPort.port);
    h.base.onClose(() => web.service.stop(5_000));
    const browser = await launchChromium();
    h.base.onClose(() => browser.close());
    const { page, problems } = await openUserPage(browser, web.url);
    await signIn(page, 'acme', 'traced-op', PASSWORD);
    await page.goto(`/jobs/${created.id}`);
    const link = page.getByTestId('trace-link');
    await link.waitFor();
    expect(await link.getAttribute('href')).toBe(TRACE_UI.replace('{traceId}', traceId!));
    expect(await link.getAttribute('title')).toBe(traceId);
    expect(problems).toEqual([]);
  }, 120_000);

  it('holds the API request, the workflow start, the workflow, the activities and each SSH call, parent by parent', async () => {
    const { traceId } = await jobTraceId(h.orchestrator.apiUrl, operator.token, created.id);
    const spans = await waitForTrace(traceId!, (s) => s.filter((x) => x.name === 'ssh').length >= 3);
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['orchestrator', 'executor-worker']));
    const ids = byId(spans);
    const parentOf = (s: ReceivedSpan) => ids.get(s.parentSpanId);

    const api = spans.find((s) => s.name === 'POST /api/jobs')!;
    expect(api).toMatchObject({
      service: 'orchestrator',
      attributes: { 'http.route': '/api/jobs', 'http.request.method': 'POST', 'http.response.status_code': 201 },
    });
    const start = spans.find((s) => s.name === 'StartWorkflow:runJob')!;
    expect(start).toMatchObject({ service: 'orchestrator', parentSpanId: api.spanId });
    const run = spans.find((s) => s.name === 'RunWorkflow:runJob')!;
    expect(run).toMatchObject({ service: 'orchestrator', parentSpanId: start.spanId });

    const ssh = spans.filter((s) => s.name === 'ssh');
    expect(ssh.map((s) => s.attributes['opsc.target.name']).sort()).toEqual(h.fleet.hosts.map((x) => x.name).sort());
    for (const call of ssh) {
      expect(call).toMatchObject({
        service: 'executor-worker',
        attributes: { 'opsc.method': 'ssh', 'opsc.step.id': 'append', 'opsc.job.id': created.id },
      });
      const activity = parentOf(call)!;
      expect(activity).toMatchObject({ service: 'executor-worker', name: 'RunActivity:runSshOperation' });
      const scheduled = parentOf(activity)!;
      expect(scheduled).toMatchObject({ service: 'orchestrator', name: 'StartActivity:runSshOperation' });
      expect(scheduled.parentSpanId).toBe(run.spanId);
    }
    // The orchestrator's own activities (bookkeeping) are in the same trace.
    expect(spans.some((s) => s.service === 'orchestrator' && s.name.startsWith('RunActivity:'))).toBe(true);
    expectOneTree(spans, api);
  });

  it("writes the job's trace id on the lines of its activities, on the executor and the orchestrator", async () => {
    const { traceId } = await jobTraceId(h.orchestrator.apiUrl, operator.token, created.id);
    const ended = (name: 'orchestrator' | 'executor') => async () => {
      const lines = (await logLines(h.stack.namespace, name)).filter(
        (l) => l.msg === 'activity ended' && l.jobId === created.id,
      );
      const enough =
        name === 'orchestrator'
          ? lines.length > 0
          : lines.filter((l) => l.activityType === 'runSshOperation').length >= 3;
      return enough ? lines : undefined;
    };
    const executor = await eventually(ended('executor'), 30_000, "the executor's activity lines");
    for (const line of executor.filter((l) => l.activityType === 'runSshOperation'))
      expect(line).toMatchObject({ traceId });
    // What the workflow does on the approval's signal is in the approval's own trace (a trace per request).
    const approval = await eventually(
      async () => collector.spans().find((s) => s.name === 'POST /api/jobs/:id/approve'),
      30_000,
      'the approval request span',
    );
    const orchestrator = await eventually(ended('orchestrator'), 30_000, "the orchestrator's activity lines");
    expect(orchestrator.some((l) => l.traceId === traceId)).toBe(true);
    for (const line of [...executor, ...orchestrator])
      expect([traceId, approval.traceId], String(line.activityType)).toContain(line.traceId);
  });

  it('traces the approval as a request of its own, named by its route pattern, that reaches the workflow', async () => {
    const approve = await eventually(
      async () =>
        collector
          .spans()
          .find((s) => s.name === 'POST /api/jobs/:id/approve' && s.attributes['http.response.status_code'] === 200),
      30_000,
      'the approval request span',
    );
    expect(approve).toMatchObject({ service: 'orchestrator', parentSpanId: '' });
    expect(approve.attributes['http.route']).toBe('/api/jobs/:id/approve');
    const children = collector.spans().filter((s) => s.parentSpanId === approve.spanId);
    expect(children.length).toBeGreaterThan(0);
  });

  it('carries no secret, command, output or request in any span', () => {
    const text = collector.rawText();
    expect(text).not.toContain(planted);
    for (const host of h.fleet.hosts) expect(text).not.toContain(host.password);
    expect(text).not.toContain(h.fleet.clientKey.passphrase);
  });
});

// The seed's Windows scenario as tests/integration/windows-scenario.test.ts runs it (25 hosts, two of
// which deny the copy and are rolled back): its trace, with the span counts per service printed.
describe("the seed's Windows scenario over WinRM is one trace", () => {
  let h: WinrmHarness;
  let job: JobView;
  let operator: { token: string };

  beforeAll(async () => {
    h = await startWinrmHarness('tracing-windows', { ...seedWindowsFleet(), orchestratorEnv: tracedEnv });
    await uploadArtifact(
      h.orchestrator.apiUrl,
      h.admin.token,
      'stationcontroller/2.0/stationcontroller.exe',
      randomBytes(2 * 1024 * 1024),
    );
    await h.stack.startExecutor({ ...tracedEnv, EXECUTOR_MAX_CONCURRENT_ACTIVITIES: '100' });
    operator = await h.stack.createUser('operator', { tenant: 'acme' });
    const approver = await h.stack.createUser('approver', { tenant: 'acme' });
    const proposal = await proposeAndFill(h.orchestrator.apiUrl, operator.token, REQUEST, (tool, param) =>
      tool === 'file-copy'
        ? { source: 'stationcontroller/2.0/stationcontroller.exe', destination: EXE }[param]
        : undefined,
    );
    const created = await submitDraft(h.orchestrator.apiUrl, operator.token, proposal.draft);
    job = await approveAndWait(h.orchestrator.apiUrl, operator.token, approver.token, created);
    // 23 hosts changed, the 2 whose copy failed rolled back.
    expect(job.status).toBe('failed');
    expect(job.outcome).toMatchObject({ targets: { total: 25, completed: 23, rolledBack: 2 } });
  }, 400_000);

  afterAll(async () => {
    await h?.close();
  });

  it('spans orchestrator and executor, with a WinRM span for every target of every step', async () => {
    const id = (await jobTraceId(h.orchestrator.apiUrl, operator.token, job.id)).traceId;
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    const winrmResults = job.results.length;
    const spans = await waitForTrace(id!, (s) => s.filter((x) => x.name === 'winrm').length >= winrmResults);
    const perService = countBy(spans, (s) => s.service);
    // For the record (the issue's closing note): the trace of the seed's Windows scenario.
    console.log(
      `trace ${id} of the Windows scenario (${SIZE} hosts, ${job.results.length} results): spans per service ${JSON.stringify(perService)}; by name ${JSON.stringify(countBy(spans, (s) => `${s.service} ${s.name}`))}`,
    );
    const winrm = spans.filter((s) => s.name === 'winrm');
    expect(new Set(winrm.map((s) => s.attributes['opsc.target.name']))).toEqual(
      new Set(h.fleet.hosts.map((x) => x.name)),
    );
    const ids = byId(spans);
    for (const call of winrm) expect(ids.get(call.parentSpanId)?.name).toBe('RunActivity:runWinrmOperation');
    expectOneTree(
      spans,
      spans.find((s) => s.name === 'POST /api/jobs')!,
    );
    const text = collector.rawText();
    for (const host of h.fleet.hosts) expect(text).not.toContain(host.password);
    expect(Object.keys(perService).sort()).toEqual(['executor-worker', 'orchestrator']);
  });
});
