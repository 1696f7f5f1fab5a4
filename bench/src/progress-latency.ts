import os from 'node:os';
import { Cell, isFinalJobStatus, type JobProgress, type PlanInput } from '@opsc/contracts';
import { progressQuery } from '@opsc/contracts/temporal';
import { jobResults, pct, waitFor } from './rollout-opsc.js';
import type { BenchStack } from './rollout-stack.js';
import { runOnSshFleet } from './ssh-fleet-bench.js';

/**
 * How long a target's verdict takes to reach the browser: for each (step, target) of a job, from the
 * moment the executor finished the target's step (its stored result's `finishedAt`) to the first
 * `progress` event on `GET /api/jobs/:id/events` whose matrix shows the cell succeeded or failed, as
 * an SSE client reads it. At each size it also samples what the `progress` query itself takes while
 * the job runs. Real Temporal dev server, embedded PostgreSQL, orchestrator and executor processes,
 * and a real sshd fleet (targets share hosts past `--hosts`).
 *
 *   npm run bench:progress -- [--sizes 10,1000] [--steps 3] [--hosts 250] [--parallel 100]
 */
const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const whole = (name: string, fallback: string): number => {
  const value = Number(arg(name, fallback));
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive whole number`);
  return value;
};
const SIZES = arg('sizes', '10,1000')
  .split(',')
  .map((s) => Number(s));
if (SIZES.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--sizes takes whole numbers, e.g. 10,1000');
const STEPS = whole('steps', '3');
const LARGEST = Math.max(...SIZES);
const HOSTS = Math.min(whole('hosts', '250'), LARGEST);
const PARALLEL = whole('parallel', '100');
const TIMEOUT_MS = whole('timeout-seconds', '1800') * 1000;
/** How often the bench asks the progress query itself while a job runs (an extra client, as a second browser would be). */
const QUERY_EVERY_MS = 2_000;

const say = (line: string) => process.stdout.write(`${line}\n`);

const plan = (group: string, targets: number): PlanInput => ({
  name: `progress latency: ${STEPS} steps on ${targets} targets`,
  policies: { maxParallel: Math.min(PARALLEL, targets), rollback: 'none' },
  steps: Array.from({ length: STEPS }, (_, i) => ({
    id: `s${i + 1}`,
    name: `Short wait ${i + 1}`,
    targets: { group },
    // Verdicts spread over time, not all at once: a short wait that varies from run to run (the shell pid).
    action: { method: 'ssh', operation: { op: 'script', shell: 'sh', script: 'sleep 0.$(($$ % 5)); echo ok' } },
  })),
});

interface Seen {
  at: number;
  progress: JobProgress;
}

/** Reads the job's event stream until it ends, keeping each `progress` event with the time it arrived. */
const watch = async (stack: BenchStack, id: string, signal: AbortSignal): Promise<Seen[]> => {
  const res = await fetch(`${stack.apiUrl}/api/jobs/${id}/events`, {
    headers: { authorization: `Bearer ${stack.token}`, accept: 'text/event-stream' },
    signal,
  });
  if (res.status !== 200 || !res.body) throw new Error(`GET /api/jobs/${id}/events: HTTP ${res.status}`);
  const seen: Seen[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  const reader = res.body.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return seen;
    const at = Date.now();
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end).split('\n');
      buffer = buffer.slice(end + 2);
      const event = block
        .find((l) => l.startsWith('event:'))
        ?.slice(6)
        .trim();
      const data = block
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).replace(/^ /, ''))
        .join('\n');
      if (event === 'progress') seen.push({ at, progress: JSON.parse(data) as JobProgress });
      if (event === 'end') return seen;
    }
  }
};

interface Run {
  targets: number;
  status: string;
  delays: number[];
  /** Of each delay, the part before the workflow made the verdict (the time on its line in the job's log). */
  toWorkflow: number[];
  missed: number;
  events: number;
  queryMs: number[];
  wallMs: number;
}

const runJob = async (stack: BenchStack, group: string, targets: number): Promise<Run> => {
  const created = await stack.call<{ id: string; planHash: string; approvalRequired: boolean }>('/api/jobs', {
    plan: plan(group, targets),
  });
  const id = created.id;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
  const stream = watch(stack, id, abort.signal);
  if (created.approvalRequired) {
    await waitFor(stack, id, (j) => j.status === 'awaiting_approval', 120_000, 50);
    await stack.call(`/api/jobs/${id}/approve`, { planHash: created.planHash }, stack.approverToken);
  }
  const t0 = performance.now();
  // The query's own cost while the job runs, from a client of its own.
  const queryMs: number[] = [];
  let over = false;
  const sampling = (async () => {
    while (!over) {
      const t = performance.now();
      const p = await stack.client.workflow
        .getHandle(id)
        .query(progressQuery)
        .catch(() => null);
      if (p) queryMs.push(performance.now() - t);
      if (p && isFinalJobStatus(p.status)) return;
      await new Promise((r) => setTimeout(r, QUERY_EVERY_MS));
    }
  })();
  const seen = await stream.finally(() => clearTimeout(timer));
  const wallMs = performance.now() - t0;
  over = true;
  await sampling;
  const final = await waitFor(stack, id, (j) => isFinalJobStatus(j.status), 60_000, 200);
  const first = seen[0]?.progress;
  const delays: number[] = [];
  const toWorkflow: number[] = [];
  let missed = 0;
  // The workflow logs each verdict at the time it made it; the events carry the job's last log lines.
  const decided = new Map<string, number>();
  for (const s of seen)
    for (const l of s.progress.logs)
      if (l.stepId && l.target && !decided.has(`${l.stepId}|${l.target}`))
        decided.set(`${l.stepId}|${l.target}`, Date.parse(l.at));
  for (const r of await jobResults(stack, id)) {
    const step = first?.steps.findIndex((s) => s.id === r.stepId) ?? -1;
    const column = first?.targets.indexOf(r.target.name) ?? -1;
    const shown = seen.find((s) => {
      const cell = s.progress.matrix[step]?.[column];
      return cell === Cell.succeeded || cell === Cell.failed;
    });
    if (!shown || !r.finishedAt) missed += 1;
    else delays.push(shown.at - Date.parse(r.finishedAt));
    const made = decided.get(`${r.stepId}|${r.target.name}`);
    if (made !== undefined && r.finishedAt) toWorkflow.push(made - Date.parse(r.finishedAt));
  }
  return { targets, status: final.status, delays, toWorkflow, missed, events: seen.length, queryMs, wallMs };
};

const print = (r: Run) => {
  const ms = (x: number) => `${x.toFixed(0)} ms`;
  say(
    `${r.targets} targets x ${STEPS} steps: ${r.status} in ${(r.wallMs / 1000).toFixed(1)} s, ${r.events} progress events`,
  );
  say(
    `  verdict -> SSE progress (${r.delays.length} verdicts${r.missed ? `, ${r.missed} never shown` : ''}): p50 ${ms(pct(r.delays, 50))}, p95 ${ms(pct(r.delays, 95))}, max ${ms(Math.max(...r.delays))}${r.targets === LARGEST ? `; goal p95 < 1000 ms ${pct(r.delays, 95) < 1000 ? 'met' : 'NOT met'}` : ''}`,
  );
  if (r.toWorkflow.length)
    say(
      `    of which to the workflow's verdict (its log line, ${r.toWorkflow.length} seen): p50 ${ms(pct(r.toWorkflow, 50))}, p95 ${ms(pct(r.toWorkflow, 95))}`,
    );
  say(
    `  progress query alone (${r.queryMs.length} samples, every ${QUERY_EVERY_MS / 1000} s): p50 ${ms(pct(r.queryMs, 50))}, p95 ${ms(pct(r.queryMs, 95))}`,
  );
};

const main = () =>
  runOnSshFleet(
    {
      workPrefix: 'opsc-bench-progress-',
      hosts: HOSTS,
      targets: LARGEST,
      targetPrefix: 'latency',
      parallel: PARALLEL,
      say,
    },
    async (stack, names) => {
      for (const n of SIZES)
        await stack.call('/api/inventory/groups', { name: `latency-${n}`, targets: names.slice(0, n) });
      say(
        `inventory: ${LARGEST} targets on ${HOSTS} hosts; maxParallel ${PARALLEL}; ${os.availableParallelism()} cores\n`,
      );
      const runs: Run[] = [];
      for (const n of SIZES) {
        const r = await runJob(stack, `latency-${n}`, n);
        runs.push(r);
        print(r);
      }
      const ok = runs.every((r) => r.status === 'completed' && r.missed === 0);
      if (!ok) say('some verdicts were not completed or never shown');
      return ok;
    },
  );

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
