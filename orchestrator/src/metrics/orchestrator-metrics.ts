import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type pg from 'pg';
import { JobStatus, type PlanProposal } from '@opsc/contracts';
import { boundedLabel } from '@opsc/telemetry/metrics';
import type { PoolLiveness } from '../jobs/pool-liveness.js';

/** The product's metrics on the orchestrator; every label comes from a closed set (docs/metrics.md). */
export interface OrchestratorMetrics {
  registry: Registry;
  apiDuration: Histogram<'method' | 'route' | 'status'>;
  /** A job's row reached a final status (counted once: only when the row changed). */
  jobFinished(status: string, outcome?: JobTargetsOutcome): void;
  /** Verdicts newly recorded: steps on targets, and undo actions (`<step>.rollback`). */
  verdictsRecorded(verdicts: readonly { stepId: string; status: string }[]): void;
  /** Times a planning call and notes which planner answered. */
  timePlanning(plan: () => Promise<PlanProposal>): Promise<PlanProposal>;
}

export interface JobTargetsOutcome {
  targets?: { total: number; completed: number; failed: number; rolledBack: number; rollbackFailed: number };
}

const JOB_STATUSES = JobStatus.options;
const FINAL = ['completed', 'failed', 'cancelled', 'rejected'] as const;
const PROPOSAL_STATUSES = ['ready', 'needs-input', 'invalid', 'refused'] as const;
const SCRAPE_CACHE_MS = 3_000;
const QUERY_TIMEOUT_MS = 2_000;

interface JobCounts {
  byStatus: Map<string, number>;
  approvalsWaiting: number;
  oldestApprovalSeconds: number;
}

export interface OrchestratorMetricsDeps {
  pool: pg.Pool;
  pools?: PoolLiveness;
}

export const createOrchestratorMetrics = (deps: OrchestratorMetricsDeps): OrchestratorMetrics => {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'opsc_orchestrator_' });

  // One bounded read per few seconds, however many gauges and scrapers ask.
  let counts: { at: number; value: Promise<JobCounts> } | undefined;
  const jobCounts = (): Promise<JobCounts> => {
    if (counts && Date.now() - counts.at < SCRAPE_CACHE_MS) return counts.value;
    const value = deps.pool
      .query<{ status: string; n: number; oldest: number | null }>({
        text: `SELECT status, count(*)::int AS n, extract(epoch FROM now() - min(created_at))::float8 AS oldest
                 FROM jobs WHERE status <> ALL($1::text[]) GROUP BY status
               UNION ALL
               SELECT status, count(*)::int, NULL FROM jobs WHERE status = ANY($1::text[]) GROUP BY status`,
        values: [[...FINAL]],
        query_timeout: QUERY_TIMEOUT_MS,
      } as pg.QueryConfig)
      .then(({ rows }) => {
        const byStatus = new Map(rows.map((r) => [r.status, r.n]));
        const waiting = rows.find((r) => r.status === 'awaiting_approval');
        return { byStatus, approvalsWaiting: waiting?.n ?? 0, oldestApprovalSeconds: waiting?.oldest ?? 0 };
      });
    counts = { at: Date.now(), value };
    // A failed read is not kept: the next scrape asks again.
    value.catch(() => {
      if (counts?.value === value) counts = undefined;
    });
    return value;
  };

  new Gauge({
    name: 'opsc_jobs',
    help: 'Jobs by status, read from PostgreSQL at scrape (cached a few seconds)',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const { byStatus } = await jobCounts();
      for (const s of JOB_STATUSES) this.set({ status: s }, byStatus.get(s) ?? 0);
    },
  });
  new Gauge({
    name: 'opsc_approvals_waiting',
    help: 'Jobs waiting for a person to approve their plan',
    registers: [registry],
    async collect() {
      this.set((await jobCounts()).approvalsWaiting);
    },
  });
  new Gauge({
    name: 'opsc_approval_oldest_wait_seconds',
    help: 'How long the oldest job waiting for approval has waited (0: none waits)',
    registers: [registry],
    async collect() {
      this.set((await jobCounts()).oldestApprovalSeconds);
    },
  });
  new Gauge({
    name: 'opsc_executor_pools_quiet',
    help: 'Executor pools (per tenant) the inventory names that no executor serves now',
    registers: [registry],
    async collect() {
      if (!deps.pools) return this.set(0);
      const { rows } = await deps.pool.query<{ tenant_id: string; pools: string[] }>({
        text: `SELECT tenant_id, array_agg(DISTINCT pool) AS pools FROM (
                 SELECT tenant_id, pool FROM targets WHERE pool IS NOT NULL
                 UNION SELECT tenant_id, pool FROM target_groups WHERE pool IS NOT NULL) p
               GROUP BY tenant_id LIMIT 1000`,
        query_timeout: QUERY_TIMEOUT_MS,
      } as pg.QueryConfig);
      const quiet = await Promise.all(rows.map((r) => deps.pools!.quiet(r.tenant_id, r.pools)));
      this.set(quiet.reduce((n, q) => n + q.size, 0));
    },
  });

  const apiDuration = new Histogram({
    name: 'opsc_api_request_duration_seconds',
    help: 'API requests by method, route pattern (or "unmatched") and HTTP status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const finished = new Counter({
    name: 'opsc_jobs_finished_total',
    help: 'Jobs that reached a final status',
    labelNames: ['status'] as const,
    registers: [registry],
  });
  const targets = new Counter({
    name: 'opsc_targets_finished_total',
    help: 'Targets of finished jobs by their end (completed, failed, rolled_back, rollback_failed, not_reached)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const steps = new Counter({
    name: 'opsc_steps_finished_total',
    help: 'Steps finished on a target, by verdict (succeeded, failed, skipped)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const undos = new Counter({
    name: 'opsc_undo_actions_total',
    help: 'Undo actions (rollback of a step on a target) finished, by outcome (ok, failed)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const planning = new Histogram({
    name: 'opsc_planner_duration_seconds',
    help: 'Planning calls by the planner that answered (builtin, llm, fallback) and outcome',
    labelNames: ['planner', 'outcome'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  for (const s of FINAL) finished.inc({ status: s }, 0);
  for (const o of ['ok', 'failed']) undos.inc({ outcome: o }, 0);

  return {
    registry,
    apiDuration,
    jobFinished(status, outcome) {
      finished.inc({ status: boundedLabel(status, FINAL) });
      const t = outcome?.targets;
      if (!t) return;
      const add = (o: string, n: number) => n > 0 && targets.inc({ outcome: o }, n);
      add('completed', t.completed);
      add('failed', t.failed);
      add('rolled_back', t.rolledBack);
      add('rollback_failed', t.rollbackFailed);
      add('not_reached', t.total - t.completed - t.failed - t.rolledBack - t.rollbackFailed);
    },
    verdictsRecorded(verdicts) {
      for (const v of verdicts) {
        const status = boundedLabel(v.status, ['succeeded', 'failed', 'skipped'] as const);
        if (v.stepId.endsWith('.rollback')) undos.inc({ outcome: status === 'succeeded' ? 'ok' : 'failed' });
        else steps.inc({ outcome: status });
      }
    },
    async timePlanning(plan) {
      const stop = planning.startTimer();
      try {
        const p = await plan();
        const planner = p.planner === 'built-in' ? (p.fallbackReason ? 'fallback' : 'builtin') : 'llm';
        stop({ planner, outcome: boundedLabel(p.status, PROPOSAL_STATUSES) });
        return p;
      } catch (err) {
        stop({ planner: 'none', outcome: 'error' });
        throw err;
      }
    },
  };
};
