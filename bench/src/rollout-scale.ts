import os from 'node:os';
import { isFinalJobStatus, Plan, type JobProgress, type LinuxOperationInput, type PlanInput } from '@opsc/contracts';
import { progressQuery } from '@opsc/contracts/temporal';
import { JobState } from '@opsc/workflows/job-state';
import { dispatchLines } from './dispatch-stats.js';
import { startCpuMeter, type CpuReading } from './proc-cpu.js';
import { historyStats, type HistoryStats } from './rollout-history.js';
import { etaErrors, etaReading, formatEtaErrors, type EtaErrors, type EtaReading } from './eta-errors.js';
import { pct, waitFor } from './rollout-opsc.js';
import type { BenchStack } from './rollout-stack.js';
import { runOnSshFleet } from './ssh-fleet-bench.js';

/**
 * The largest job we run: T targets x S steps (default 1,000 x 7) on the sshd fleet (at most 250
 * hosts, so several targets share a host, each its own inventory entry), through the whole system.
 * It reports what the issue asks to know at that scale: the workflow history of every run of the
 * continue-as-new chain against Temporal's limits, what the `progress` query and GET /api/jobs/:id
 * cost while it runs (against a 10-target job of the same plan, measured in the same process), and
 * the ETA shown at the start against the actual time, run after run.
 *
 *   npm run bench:scale -- [--targets 1000] [--steps 7] [--hosts 250] [--parallel 100] [--repeat 2]
 */
const arg = (name: string, fallback: string): number => {
  const i = process.argv.indexOf(`--${name}`);
  const value = Number(i > 0 ? process.argv[i + 1] : fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive whole number`);
  return value;
};
const TARGETS = arg('targets', '1000');
const STEPS = arg('steps', '7');
const HOSTS = Math.min(arg('hosts', '250'), TARGETS);
const PARALLEL = arg('parallel', '100');
const REPEAT = arg('repeat', '2');
const TIMEOUT_MS = arg('timeout-seconds', '3600') * 1000;
const BASELINE_TARGETS = 10;
/** Rows per page when the bench reads a finished job's results: the API's largest page. */
const RESULTS_PAGE = 1_000;
/** Temporal's hard limits on one run's history (the server's defaults). */
const LIMIT = { events: 51_200, bytes: 50 * 1024 * 1024 };
/** How often the bench reads the job's progress while it runs. */
const SAMPLE_EVERY_MS = 2_000;

const say = (line: string) => process.stdout.write(`${line}\n`);
const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;

/** Light commands of different lengths, so the steps and the ETA have something to tell apart. */
const STEP_ACTIONS: { name: string; operation: LinuxOperationInput }[] = [
  { name: 'Kernel release', operation: { op: 'run', argv: ['uname', '-r'] } },
  { name: 'Root filesystem usage', operation: { op: 'run', argv: ['df', '-P', '/'] } },
  { name: 'Wait 0.2 s', operation: { op: 'script', shell: 'sh', script: 'sleep 0.2; echo waited' } as const },
  {
    name: 'Five lines of output',
    operation: { op: 'script', shell: 'sh', script: 'for i in 1 2 3 4 5; do echo "line $i"; done' },
  },
  { name: 'Login user', operation: { op: 'run', argv: ['id', '-un'] } },
  { name: 'Wait 0.5 s', operation: { op: 'script', shell: 'sh', script: 'sleep 0.5; echo waited' } },
  { name: 'Uptime', operation: { op: 'run', argv: ['uptime'] } },
];

const scalePlan = (group: string, targets: number): PlanInput => ({
  name: `scale: ${STEPS} steps on ${targets} targets`,
  policies: { maxParallel: PARALLEL, rollback: 'none' },
  steps: Array.from({ length: STEPS }, (_, i) => {
    const action = STEP_ACTIONS[i % STEP_ACTIONS.length]!;
    return {
      id: `s${i + 1}`,
      name: action.name,
      targets: { group },
      action: { method: 'ssh', operation: action.operation },
    };
  }),
});

/**
 * What the `progress` query itself costs, apart from waiting for the worker: the workflow's
 * snapshot of a job with `targets` x STEPS cells, the first step half done, serialised as the
 * query answer is; milliseconds per snapshot and its bytes.
 */
const snapshotCost = (targets: number): { ms: number; bytes: number } => {
  const plan = Plan.parse(scalePlan('g', targets));
  const names = Array.from({ length: targets }, (_, i) => `t${i}`);
  const approval = {
    required: false,
    status: 'not_required' as const,
    planHash: 'h',
    requestedBy: 'bench',
    fourEyes: true,
    deadline: null,
  };
  const state = new JobState(
    'job',
    plan,
    names,
    plan.steps.map(() => names.map((_, i) => i)),
    -1,
    { approval, now: new Date() },
  );
  state.startStep(0, new Date());
  for (let t = 0; t < targets; t += 1) {
    state.startTarget(0, t, new Date());
    if (t % 2 === 0) state.finishTarget(0, t, true, false, 500, 'ok', new Date());
  }
  const rounds = 200;
  let bytes = 0;
  const t0 = performance.now();
  for (let i = 0; i < rounds; i += 1) bytes = Buffer.byteLength(JSON.stringify(state.snapshot(new Date())));
  return { ms: (performance.now() - t0) / rounds, bytes };
};

interface Sample {
  queryMs: number;
  queryBytes: number;
  getMs: number;
  getBytes: number;
}

/** Reading a finished job's results through `GET /api/jobs/:id/results`, page by page. */
interface ResultsRead {
  rows: number;
  pages: number;
  bytes: number;
  totalMs: number;
  pageMs: number[];
  /** One target's results (`?target=`), as the web's output panel reads them. */
  oneTargetMs: number;
}

const readResults = async (stack: BenchStack, id: string, firstTarget: string, limit: number): Promise<ResultsRead> => {
  const get = async (query: string) => {
    const t = performance.now();
    const res = await fetch(`${stack.apiUrl}/api/jobs/${id}/results?${query}`, {
      headers: { authorization: `Bearer ${stack.token}` },
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`GET /api/jobs/${id}/results?${query}: HTTP ${res.status} ${text.slice(0, 300)}`);
    return {
      ms: performance.now() - t,
      bytes: Buffer.byteLength(text),
      body: JSON.parse(text) as { results: unknown[]; next: { after: string } | null },
    };
  };
  const out: ResultsRead = { rows: 0, pages: 0, bytes: 0, totalMs: 0, pageMs: [], oneTargetMs: 0 };
  const t0 = performance.now();
  let after: string | undefined;
  do {
    const page = await get(`limit=${limit}${after ? `&after=${after}` : ''}`);
    out.pages += 1;
    out.rows += page.body.results.length;
    out.bytes += page.bytes;
    out.pageMs.push(page.ms);
    after = page.body.next?.after;
  } while (after);
  out.totalMs = performance.now() - t0;
  out.oneTargetMs = (await get(`target=${encodeURIComponent(firstTarget)}`)).ms;
  return out;
};

interface RunResult {
  jobId: string;
  status: string;
  wallMs: number;
  eta: { predicted: number; from: string } | null;
  /** The error of the first ETA and of those at 25% and 50% done. */
  etaErrors: EtaErrors;
  samples: Sample[];
  completed: number;
  history: HistoryStats;
  results: ResultsRead;
  /** CPU seconds of each service (and the fleet's processes by name) from the approval to the end. */
  cpu: [string, number][];
  /** Busy CPU seconds of the whole machine over the same time, and its cores. */
  machine: CpuReading['machine'];
}

/** Reads the job's progress the two ways a client does: the Temporal query, and the API's job view. */
const sample = async (stack: BenchStack, id: string): Promise<Sample> => {
  let t = performance.now();
  const progress = await stack.client.workflow.getHandle(id).query(progressQuery);
  const queryMs = performance.now() - t;
  t = performance.now();
  const res = await fetch(`${stack.apiUrl}/api/jobs/${id}`, {
    headers: { authorization: `Bearer ${stack.token}` },
    signal: AbortSignal.timeout(60_000),
  });
  const body = await res.text();
  const getMs = performance.now() - t;
  if (!res.ok) throw new Error(`GET /api/jobs/${id}: HTTP ${res.status} ${body.slice(0, 300)}`);
  return { queryMs, queryBytes: Buffer.byteLength(JSON.stringify(progress)), getMs, getBytes: Buffer.byteLength(body) };
};

/** Posts the plan, approves it as the second user, samples its progress until it ends. */
const runJob = async (stack: BenchStack, group: string, targets: number): Promise<RunResult> => {
  const created = await stack.call<{ id: string; planHash: string; approvalRequired: boolean }>('/api/jobs', {
    plan: scalePlan(group, targets),
  });
  const id = created.id;
  if (created.approvalRequired) {
    await waitFor(stack, id, (j) => j.status === 'awaiting_approval', 120_000, 50);
    await stack.call(
      `/api/jobs/${id}/approve`,
      { planHash: created.planHash, comment: 'bench:scale' },
      stack.approverToken,
    );
  }
  const approvedAt = Date.now();
  const meter = startCpuMeter(() => ({ ...stack.pids(), bench: process.pid }));
  const t0 = performance.now();
  const samples: Sample[] = [];
  let eta: RunResult['eta'] = null;
  let progress: JobProgress | null = null;
  const readings: EtaReading[] = [];
  for (;;) {
    const s = await sample(stack, id);
    samples.push(s);
    progress = await stack.client.workflow.getHandle(id).query(progressQuery);
    const reading = etaReading(progress, Date.now());
    if (reading) readings.push(reading);
    const over = isFinalJobStatus(progress.status);
    // An ETA read after the end says nothing about the estimate.
    if (!eta && progress.eta && !over)
      eta = {
        predicted: (Date.parse(progress.eta) - approvedAt) / 1000,
        from: [...new Set(progress.steps.map((x) => x.expectedFrom))].join('/'),
      };
    if (over) break;
    if (performance.now() - t0 > TIMEOUT_MS)
      throw new Error(`job ${id} still ${progress.status} after ${TIMEOUT_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, SAMPLE_EVERY_MS));
  }
  // The end as the workflow saw it, not when the bench next looked.
  const finishedAt = Date.parse(progress.finishedAt ?? '') || Date.now();
  const { cpu, machine } = meter.stop();
  return {
    jobId: id,
    status: progress.status,
    wallMs: finishedAt - approvedAt,
    eta,
    etaErrors: etaErrors(readings, approvedAt, finishedAt),
    samples,
    completed: progress.targetStates.filter((s) => s === 'completed').length,
    history: await historyStats(stack.client, id),
    results: await readResults(stack, id, progress.targets[0] ?? '', RESULTS_PAGE),
    cpu,
    machine,
  };
};

const printRun = (label: string, r: RunResult, targets: number) => {
  const h = r.history;
  say(
    `${label}: ${r.jobId} ${r.status}, ${r.completed}/${targets} targets completed, ${(r.wallMs / 1000).toFixed(1)} s after the approval`,
  );
  say(`  history: ${h.runs} run(s), ${h.events} events in all, ${kib(h.serverBytes)} (server's count)`);
  for (const [i, run] of h.perRun.entries()) {
    say(
      `    run ${i + 1}: ${run.events} events (${((run.events / LIMIT.events) * 100).toFixed(1)}% of ${LIMIT.events}), ${kib(run.serverBytes)} (${((run.serverBytes / LIMIT.bytes) * 100).toFixed(2)}% of 50 MiB)`,
    );
  }
  for (const line of dispatchLines(h, r.wallMs, r.cpu, targets * STEPS, r.machine)) say(line);
  const q = r.samples.map((s) => s.queryMs);
  const g = r.samples.map((s) => s.getMs);
  say(
    `  progress query while running (${r.samples.length} samples): p50 ${pct(q, 50).toFixed(0)} ms, p95 ${pct(q, 95).toFixed(0)} ms, ${kib(Math.max(...r.samples.map((s) => s.queryBytes)))} JSON`,
  );
  say(
    `  GET /api/jobs/:id while running: p50 ${pct(g, 50).toFixed(0)} ms, p95 ${pct(g, 95).toFixed(0)} ms, up to ${kib(Math.max(...r.samples.map((s) => s.getBytes)))}`,
  );
  const rr = r.results;
  say(
    `  results after the end: ${rr.rows} rows in ${rr.pages} page(s) of up to ${RESULTS_PAGE}, ${kib(rr.bytes)}, ${(rr.totalMs / 1000).toFixed(2)} s in all; a page p50 ${pct(rr.pageMs, 50).toFixed(0)} ms, max ${Math.max(...rr.pageMs).toFixed(0)} ms; one target's ${rr.oneTargetMs.toFixed(0)} ms`,
  );
  say(
    `  ETA first shown while it ran: ${r.eta ? `${r.eta.predicted.toFixed(1)} s (from ${r.eta.from}) vs ${(r.wallMs / 1000).toFixed(1)} s actual, off by ${(((r.eta.predicted * 1000 - r.wallMs) / r.wallMs) * 100).toFixed(0)}%` : 'none seen before the end'}`,
  );
};

const main = () =>
  runOnSshFleet(
    {
      workPrefix: 'opsc-bench-scale-',
      hosts: HOSTS,
      targets: TARGETS,
      targetPrefix: 'scale',
      tags: ['scale'],
      parallel: PARALLEL,
      say,
    },
    async (stack, names) => {
      await stack.call('/api/inventory/groups', { name: 'scale', targets: names });
      await stack.call('/api/inventory/groups', { name: 'scale-baseline', targets: names.slice(0, BASELINE_TARGETS) });
      say(
        `inventory: ${TARGETS} targets on ${HOSTS} hosts; ${STEPS} steps, maxParallel ${PARALLEL}; ${os.availableParallelism()} cores\n`,
      );

      // The baseline first: it also warms the workflow bundle and the connections' code paths.
      const baseline = await runJob(stack, 'scale-baseline', BASELINE_TARGETS);
      printRun(`baseline, ${BASELINE_TARGETS} targets`, baseline, BASELINE_TARGETS);
      const runs: RunResult[] = [];
      for (let i = 0; i < REPEAT; i += 1) {
        const r = await runJob(stack, 'scale', TARGETS);
        runs.push(r);
        printRun(`\nrun ${i + 1}/${REPEAT}, ${TARGETS} targets x ${STEPS} steps`, r, TARGETS);
      }

      const largest = runs.reduce((a, b) => (b.history.events > a.history.events ? b : a));
      const maxRun = Math.max(...largest.history.perRun.map((r) => r.events));
      const maxBytes = Math.max(...largest.history.perRun.map((r) => r.serverBytes));
      const q = (rs: RunResult[]) =>
        pct(
          rs.flatMap((r) => r.samples.map((s) => s.queryMs)),
          50,
        );
      const qb = (rs: RunResult[]) => Math.max(...rs.flatMap((r) => r.samples.map((s) => s.queryBytes)));
      say('\nsummary');
      say(
        `  largest job: ${TARGETS * STEPS} target-steps in ${largest.history.runs} runs, ${largest.history.events} events, ${kib(largest.history.serverBytes)}; the biggest run ${maxRun} events (${((maxRun / LIMIT.events) * 100).toFixed(1)}% of the limit), ${kib(maxBytes)}`,
      );
      say(
        `  progress query p50: ${q(runs).toFixed(0)} ms at ${TARGETS} targets vs ${q([baseline]).toFixed(0)} ms at ${BASELINE_TARGETS} (x${(q(runs) / q([baseline])).toFixed(1)}); ${kib(qb(runs))} vs ${kib(qb([baseline]))}`,
      );
      const small = snapshotCost(BASELINE_TARGETS);
      const large = snapshotCost(TARGETS);
      const g = (rs: RunResult[]) =>
        pct(
          rs.flatMap((r) => r.samples.map((s) => s.getMs)),
          50,
        );
      const gb = (rs: RunResult[]) => Math.max(...rs.flatMap((r) => r.samples.map((s) => s.getBytes)));
      say(
        `  GET /api/jobs/:id p50: ${g(runs).toFixed(0)} ms at ${TARGETS} targets vs ${g([baseline]).toFixed(0)} ms at ${BASELINE_TARGETS} (x${(g(runs) / g([baseline])).toFixed(1)}); ${kib(gb(runs))} vs ${kib(gb([baseline]))}`,
      );
      const one = (rs: RunResult[]) =>
        pct(
          rs.map((r) => r.results.oneTargetMs),
          50,
        );
      say(
        `  one target's results: ${one(runs).toFixed(0)} ms at ${TARGETS} targets vs ${one([baseline]).toFixed(0)} ms at ${BASELINE_TARGETS}`,
      );
      say(
        `  the snapshot alone (in process, no worker): ${large.ms.toFixed(2)} ms and ${kib(large.bytes)} at ${TARGETS} targets vs ${small.ms.toFixed(2)} ms at ${BASELINE_TARGETS}; the rest of the query's time is waiting for the job's worker`,
      );
      say(
        `  ETA at the start vs actual: ${runs.map((r) => (r.eta ? `${(((r.eta.predicted * 1000 - r.wallMs) / r.wallMs) * 100).toFixed(0)}%` : 'none')).join(', ')}`,
      );
      say(
        `  ETA errors, run after run (goal: first within 20%, repeats within 10%): ${runs.map((r) => `[${formatEtaErrors(r.etaErrors)}]`).join(' ')}`,
      );
      const ok =
        runs.every((r) => r.status === 'completed' && r.completed === TARGETS) && baseline.status === 'completed';
      if (!ok) say('some runs did not complete every target');
      return ok;
    },
  );

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
