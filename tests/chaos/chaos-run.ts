import { expect } from 'vitest';
import { eventually, requestJson, type JobView } from '../support/api.js';
import { startProxy, type TcpProxy } from '../support/pg-proxy.js';
import { control, type Created } from '../support/rollout.js';
import type { RunningExecutor, RunningOrchestrator, TestStack } from '../support/stack.js';
import { checkRun, describeExpectation, waitForEnd, type Expectation, type HostFacts } from './host-checks.js';
import { recordRow } from './matrix.js';

/** How long PostgreSQL stays down in the outage case: short by default, 600 for the issue's ten minutes. */
export const PG_OUTAGE_SECONDS = Number(process.env.OPSC_CHAOS_PG_OUTAGE_SECONDS ?? 30);
/** How long a job may take to end after its fault (an outage's end) before it counts as stuck. */
export const END_DEADLINE_MS = Number(process.env.OPSC_CHAOS_DEADLINE_SECONDS ?? 90) * 1_000;

/**
 * The services of a chaos file: an orchestrator and an executor whose database is reached through a
 * proxy that a fault can take down, and the operator and approver who submit and approve each job.
 * The harness' own orchestrator (direct to PostgreSQL) is stopped, so every service loses the
 * database when the proxy goes down.
 */
export interface ChaosServices {
  proxy: TcpProxy;
  orchestrator: RunningOrchestrator;
  executor: RunningExecutor;
  operator: { token: string };
  approver: { token: string };
  apiUrl(): string;
  killExecutor(): Promise<void>;
  startExecutor(): Promise<void>;
  killOrchestrator(): Promise<void>;
  startOrchestrator(): Promise<void>;
  close(): Promise<void>;
}

export const startChaosServices = async (
  stack: TestStack,
  harnessOrchestrator: RunningOrchestrator,
): Promise<ChaosServices> => {
  await harnessOrchestrator.service.stop(5_000);
  const direct = new URL(stack.roleUrls.executor);
  const proxy = await startProxy(direct.hostname, Number(direct.port || 5432));
  // Worker and heartbeat timeouts as short as the real ones allow, so a dead worker's steps move on in seconds.
  const orchestratorEnv = { DATABASE_URL: proxy.url(stack.roleUrls.orchestrator), JOB_HEARTBEAT_TIMEOUT_SECONDS: '4' };
  const executorEnv = { DATABASE_URL: proxy.url(stack.roleUrls.executor), EXECUTOR_MAX_CONCURRENT_ACTIVITIES: '50' };
  const s: ChaosServices = {
    proxy,
    orchestrator: await stack.startOrchestrator(orchestratorEnv),
    executor: await stack.startExecutor(executorEnv),
    operator: await stack.createUser('operator', { tenant: 'acme' }),
    approver: await stack.createUser('approver', { tenant: 'acme' }),
    apiUrl: () => s.orchestrator.apiUrl,
    async killExecutor() {
      s.executor.service.kill('SIGKILL');
      await s.executor.service.exited;
    },
    async startExecutor() {
      s.executor = await stack.startExecutor(executorEnv);
    },
    async killOrchestrator() {
      s.orchestrator.service.kill('SIGKILL');
      await s.orchestrator.service.exited;
    },
    async startOrchestrator() {
      s.orchestrator = await stack.startOrchestrator(orchestratorEnv);
    },
    close: () => proxy.down(),
  };
  return s;
};

/** Submits an executable plan or a draft as the operator and approves it as the approver. */
export const submitApproved = async (
  s: ChaosServices,
  body: { plan: unknown } | { draft: unknown },
): Promise<Created> => {
  const res = await requestJson<Created>(`${s.apiUrl()}/api/jobs`, { token: s.operator.token, body });
  if (res.status !== 201) throw new Error(`POST /api/jobs: ${res.status} ${JSON.stringify(res.body)}`);
  const approved = await control(s.apiUrl(), s.approver.token, res.body.id, 'approve', { planHash: res.body.planHash });
  if (approved.status !== 200) throw new Error(`approve: ${approved.status} ${JSON.stringify(approved.body)}`);
  return res.body;
};

/** Polls `probe` every 50 ms until it holds: faults are injected on a state, never after a fixed sleep. */
export const waitUntil = (probe: () => Promise<boolean> | boolean, what: string, timeoutMs = 60_000): Promise<true> =>
  eventually(async () => ((await probe()) ? true : undefined), timeoutMs, what);

export interface ChaosCase {
  workload: string;
  hosts: number;
  fault: string;
  /** Starts the job. */
  start(): Promise<Created>;
  /** Waits for the state it needs, injects the fault (and heals it, for an outage); returns when the fault began. */
  inject(jobId: string): Promise<number>;
  /** How long the fault itself lasts (an outage), added to the deadline. */
  faultSeconds?: number;
  expected: Expectation;
  /** Each host's own records once the job has ended. */
  facts(): Promise<HostFacts[]>;
  /** After the facts are read: bring back what the fault took away. */
  heal?(): Promise<void>;
}

/** The distinct things failed steps said, with how many targets said each, most common first. */
const symptomsOf = (job: JobView): string[] => {
  const counts = new Map<string, number>();
  for (const r of job.results) {
    if (r.status !== 'failed') continue;
    const said = `${r.stepId}: ${(r.error?.message ?? `exit ${r.exitCode}`).slice(0, 140)}`;
    counts.set(said, (counts.get(said) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([said, n]) => `${n}x ${said}`);
};

/**
 * Runs one fault case to the end and checks every host; records the matrix row either way, then
 * fails with the list of violations. A job still open at the end is terminated so it cannot touch
 * the next case's hosts.
 */
export const runCase = async (s: ChaosServices, stack: TestStack, c: ChaosCase): Promise<void> => {
  const created = await c.start();
  let problems: string[] = [];
  let status = 'unknown';
  let recovery: number | null = null;
  let symptoms: string[] = [];
  try {
    const injectedAt = await c.inject(created.id);
    const deadlineMs = END_DEADLINE_MS + (c.faultSeconds ?? 0) * 1_000 - (Date.now() - injectedAt);
    const { job, endedAt } = await waitForEnd(s.apiUrl, s.operator.token, created.id, deadlineMs);
    status = job.status;
    symptoms = symptomsOf(job);
    recovery = endedAt === null ? null : Math.round((endedAt - injectedAt) / 100) / 10;
    const facts = await c.facts();
    problems = checkRun(job, facts, c.expected);
    if (endedAt === null)
      problems.unshift(
        `job stuck in ${job.status} ${Math.round(END_DEADLINE_MS / 1000) + (c.faultSeconds ?? 0)} s after the fault`,
      );
    else {
      // The final status is the workflow's last write; it closes right after.
      const closed = await eventually(
        async () =>
          (await stack.client.workflow.getHandle(created.id).describe()).status.name === 'RUNNING' ? undefined : true,
        15_000,
        'the workflow to close',
      ).catch(() => false);
      if (!closed) problems.push(`job says ${job.status} but its workflow is still running`);
    }
  } catch (err) {
    problems.push(`the case could not run: ${(err as Error).message}`);
  } finally {
    await stack.client.workflow
      .getHandle(created.id)
      .terminate('chaos case over')
      .catch(() => undefined);
    await c.heal?.().catch(() => undefined);
  }
  recordRow({
    workload: c.workload,
    hosts: c.hosts,
    fault: c.fault,
    recoverySeconds: recovery,
    jobStatus: status,
    expected: describeExpectation(c.expected),
    problems,
    symptoms,
  });
  console.info(
    `[chaos] ${c.workload} / ${c.fault}: job ${status}, recovery ${recovery ?? 'stuck'} s, ${problems.length} problem(s)`,
  );
  expect(problems, `${c.workload} / ${c.fault}`).toEqual([]);
};

/** Takes PostgreSQL away from every service for the outage's length (a fault's duration, not a wait for a state); answers when it went down. */
export const databaseOutage = async (s: ChaosServices): Promise<number> => {
  const at = Date.now();
  await s.proxy.down();
  await new Promise((r) => setTimeout(r, PG_OUTAGE_SECONDS * 1_000));
  await s.proxy.up();
  return at;
};
