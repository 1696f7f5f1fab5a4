import { readFile } from 'node:fs/promises';
import { isFinalJobStatus, type JobProgress, type PlanInput } from '@opsc/contracts';
import { etaErrors, etaReading, type EtaErrors, type EtaReading } from './eta-errors.js';
import { ARTIFACT_NAME, DESTINATION, verifyScript, type Artifact, type BenchHost } from './rollout-change.js';
import type { BenchStack } from './rollout-stack.js';
import { startCpuMeter, type CpuReading } from './proc-cpu.js';
import { trackRss, type RssPeak } from './proc-rss.js';
import { historyStats, type HistoryStats } from './rollout-history.js';

export const groupName = (n: number) => `bench-${n}`;

/** Uploads the artifact to the tenant's store (file-copy's only source), streamed from its file; fails unless stored with its SHA-256. */
export const uploadArtifact = async (stack: BenchStack, artifact: Artifact): Promise<void> => {
  const res = await fetch(`${stack.apiUrl}/api/artifacts?name=${encodeURIComponent(ARTIFACT_NAME)}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.token}`, 'content-type': 'application/octet-stream' },
    body: await readFile(artifact.file),
  });
  const body = (await res.json()) as { artifact?: { sha256?: string } };
  if (res.status >= 300 || body.artifact?.sha256 !== artifact.sha256)
    throw new Error(`uploading ${ARTIFACT_NAME}: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
};

/** One credential per host (each has its own user), a target per host, and a group per size. */
export const addInventory = async (
  stack: BenchStack,
  hosts: readonly BenchHost[],
  privateKey: string,
  sizes: readonly number[],
): Promise<void> => {
  for (const host of hosts) {
    const credential = `${host.name}-key`;
    await stack.call('/api/credentials', {
      name: credential,
      username: host.username,
      secret: { kind: 'ssh-key', privateKey },
    });
    await stack.call('/api/inventory/targets', {
      name: host.name,
      address: host.address,
      os: 'linux',
      tags: ['bench'],
      services: [{ protocol: 'ssh', port: host.port, credential }],
    });
  }
  for (const n of sizes)
    await stack.call('/api/inventory/groups', { name: groupName(n), targets: hosts.slice(0, n).map((h) => h.name) });
};

/** The three steps as an executable plan, the way the validator compiles the catalog's tools. */
export const rolloutPlan = (n: number, sha256: string): PlanInput => {
  const targets = { group: groupName(n) };
  return {
    name: `bench rollout of ${ARTIFACT_NAME} on ${n} hosts`,
    policies: { maxParallel: n, rollback: 'target' },
    steps: [
      {
        id: 'check',
        name: `Checksum of ${DESTINATION}`,
        targets,
        action: { method: 'ssh', operation: { op: 'run', argv: ['sha256sum', DESTINATION] } },
      },
      {
        id: 'copy',
        name: `Copy ${ARTIFACT_NAME} to ${DESTINATION}, the old file backed up`,
        targets,
        action: {
          method: 'ssh',
          become: true,
          operation: { op: 'file-copy', source: ARTIFACT_NAME, sha256, destination: DESTINATION, backup: true },
        },
        rollback: {
          tool: 'file-restore',
          name: `Restore ${DESTINATION} from its backup`,
          action: {
            method: 'ssh',
            become: true,
            operation: { op: 'file-restore', destination: DESTINATION, backup: '{{facts.backup}}' },
          },
        },
      },
      {
        id: 'verify',
        name: `Verify the SHA-256 of ${DESTINATION}`,
        targets,
        action: { method: 'ssh', operation: { op: 'script', shell: 'sh', script: verifyScript(sha256) } },
      },
    ],
  };
};

interface JobView {
  status: string;
  progress: Pick<JobProgress, 'eta' | 'matrix' | 'finishedAt' | 'etaRange' | 'steps'> | null;
}

interface ResultRow {
  stepId: string;
  target: { name: string };
  status: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  error: { type: string; message: string } | null;
}

/** A job's results, every page of `GET /api/jobs/:id/results`. */
export const jobResults = async (stack: BenchStack, id: string): Promise<ResultRow[]> => {
  const rows: ResultRow[] = [];
  let after: string | undefined;
  do {
    const page = await stack.call<{ results: ResultRow[]; next: { after: string } | null }>(
      `/api/jobs/${id}/results?limit=1000${after ? `&after=${after}` : ''}`,
    );
    rows.push(...page.results);
    after = page.next?.after;
  } while (after);
  return rows;
};

export interface StepProfile {
  step: string;
  ok: number;
  /** Seconds after the POST: first and last activity start, last finish. */
  firstStart: number;
  lastStart: number;
  lastFinish: number;
  /** Per-target activity time (start to finish on the executor), seconds. */
  p50: number;
  max: number;
}

export interface OpscResult {
  jobId: string;
  status: string;
  /** From the POST to the job waiting for approval (plan validated, targets resolved, workflow started). */
  toApprovalMs: number;
  /** From the approval to the end: the rollout itself. */
  wallMs: number;
  /** From the approval to the workflow's close. */
  closedMs: number;
  /** The ETA the job first showed, as seconds after the approval, and the actual seconds; null when it showed none. */
  eta: { predicted: number; actual: number; from: string } | null;
  /** The error of the first ETA and of those at 25% and 50% done. */
  etaErrors: EtaErrors;
  /** The GET /api/jobs/:id calls after the close, until one answered a terminal status. */
  getMs: number;
  /** CPU seconds used by each service while the job ran. */
  cpu: [string, number][];
  /** Busy CPU seconds of the whole machine over the same time, and its cores. */
  machine: CpuReading['machine'];
  /** The executor's resident memory before the job and at its peak; null when not read. */
  executorRss: RssPeak | null;
  failures: string[];
  steps: StepProfile[];
  history: HistoryStats;
}

/** How often the bench reads the job's ETA while it runs, until half of it is done: light, one GET. */
const ETA_READ_MS = 500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The p-th percentile (nearest rank) of `xs`; 0 when empty. */
export const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.max(0, Math.ceil((p / 100) * xs.length) - 1)] ?? 0;

export const waitFor = async (
  stack: BenchStack,
  id: string,
  done: (job: JobView) => boolean,
  timeoutMs: number,
  everyMs: number,
): Promise<JobView> => {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const job = await stack.call<JobView>(`/api/jobs/${id}`);
    if (done(job)) return job;
    if (performance.now() > until) throw new Error(`job ${id} is ${job.status} after ${timeoutMs / 1000} s`);
    await sleep(everyMs);
  }
};

/**
 * Posts the plan, approves it as the bench's approver (the plan changes files, so it waits for
 * approval) and times it from the approval until the workflow closes and the API reports a
 * terminal status. The ETA the job first shows is kept, to compare with the actual time.
 */
export const opscRollout = async (
  stack: BenchStack,
  n: number,
  sha256: string,
  timeoutMs: number,
): Promise<OpscResult> => {
  const plan = rolloutPlan(n, sha256);
  const posted = performance.now();
  const created = await stack.call<{ id: string; planHash: string; approvalRequired: boolean }>('/api/jobs', { plan });
  const id = created.id;
  if (created.approvalRequired)
    await waitFor(stack, id, (j) => j.status === 'awaiting_approval' || isFinalJobStatus(j.status), 60_000, 20);
  const toApprovalMs = performance.now() - posted;
  const meter = startCpuMeter(() => ({ ...stack.pids(), bench: process.pid }));
  const rss = trackRss(stack.pids().executor);
  const postedAt = Date.now();
  const t0 = performance.now();
  if (created.approvalRequired)
    await stack.call(`/api/jobs/${id}/approve`, { planHash: created.planHash, comment: 'bench' }, stack.approverToken);
  // The workflow's result is awaited, not polled, so the bench adds no load while the job runs.
  let closedAt = 0;
  const closed = stack.client.workflow
    .getHandle(id)
    .result()
    .then(
      () => 'closed',
      (err: unknown) => `closed with ${(err as Error).message}`,
    )
    .finally(() => (closedAt = performance.now()));
  // The ETA as the job shows it: light reads (one every ETA_READ_MS) until half the job is done (or it ends).
  const readings: EtaReading[] = [];
  let from = '?';
  const firstEta = waitFor(
    stack,
    id,
    (j) => {
      const r = etaReading(j.progress, Date.now());
      if (r && readings.length === 0) from = j.progress?.steps.map((s) => s.expectedFrom).join('/') ?? '?';
      if (r) readings.push(r);
      return (r !== null && r.done >= 0.5) || isFinalJobStatus(j.status);
    },
    timeoutMs,
    ETA_READ_MS,
  ).then(
    () => {
      const first = readings[0];
      return first ? { at: first.end, from } : null;
    },
    () => null,
  );
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    closed,
    new Promise<string>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs))),
  ]);
  clearTimeout(timer);
  const closedMs = closedAt - t0;
  const { cpu, machine } = meter.stop();
  const executorRss = rss.stop();
  if (outcome === 'timeout') throw new Error(`job ${id} did not finish in ${timeoutMs / 1000} s`);
  let job = await stack.call<JobView>(`/api/jobs/${id}`);
  let polled = false;
  while (!isFinalJobStatus(job.status) && performance.now() - t0 < timeoutMs) {
    polled = true;
    await sleep(100);
    job = await stack.call<JobView>(`/api/jobs/${id}`);
  }
  // The job was terminal when its workflow closed if the first answer says so; else when the API first said so.
  const wallMs = polled ? performance.now() - t0 : closedMs;
  const getMs = performance.now() - t0 - closedMs;
  const shown = await firstEta;
  const eta = shown ? { predicted: (shown.at - postedAt) / 1000, actual: wallMs / 1000, from: shown.from } : null;
  const etaErrorsOf = etaErrors(readings, postedAt, postedAt + wallMs);

  const results = await jobResults(stack, id);
  const failures: string[] = [];
  if (outcome !== 'closed') failures.push(`workflow ${outcome}`);
  const steps = plan.steps.map((step): StepProfile => {
    const rows = results.filter((r) => r.stepId === step.id);
    for (const r of rows)
      if (r.status !== 'succeeded')
        failures.push(`${step.id} on ${r.target.name}: ${r.error?.type ?? r.status}: ${r.error?.message ?? ''}`);
    const at = (iso: string | null) => (iso ? (Date.parse(iso) - postedAt) / 1000 : NaN);
    const starts = rows.map((r) => at(r.startedAt));
    const finishes = rows.map((r) => at(r.finishedAt));
    return {
      step: step.id,
      ok: rows.filter((r) => r.status === 'succeeded').length,
      firstStart: Math.min(...starts),
      lastStart: Math.max(...starts),
      lastFinish: Math.max(...finishes),
      p50: pct(
        rows.map((_, i) => (finishes[i] ?? 0) - (starts[i] ?? 0)),
        50,
      ),
      max: Math.max(...rows.map((_, i) => (finishes[i] ?? 0) - (starts[i] ?? 0))),
    };
  });
  for (const s of steps) if (s.ok < n) failures.push(`${s.step}: ${s.ok} of ${n} targets succeeded`);
  return {
    jobId: id,
    status: job.status,
    toApprovalMs,
    wallMs,
    closedMs,
    eta,
    etaErrors: etaErrorsOf,
    getMs,
    cpu,
    machine,
    executorRss,
    failures,
    steps,
    history: await historyStats(stack.client, id),
  };
};
