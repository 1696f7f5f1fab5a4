import type { Db } from '../db.js';
import { learnPlatform, type StepEstimate, type StepEstimateRequest, type StepSample } from '@opsc/contracts';
import { ownJobOnly } from './job-records.js';

/** Runs of a tool on one target kept for its ETA: the most recent ones count. */
const HISTORY_RUNS = 20;
/** Runs of a tool on any target, for targets it never ran on. */
const TOOL_RUNS = 200;
/** Finished jobs of the tenant the platform's dispatch cost is learned from, and their steps at most. */
const PLATFORM_JOBS = 10;
const PLATFORM_STEPS = 100;
/** The executors' retry policy: the first retry waits this long (run-step.ts). */
const RETRY_BACKOFF_SECONDS = 2;

/** A run's own time, as the executor timed it (connection included); the workflow's figure where it did not. */
const RUN_MS = `coalesce(extract(epoch FROM sr.finished_at - sr.started_at) * 1000, sr.duration_ms)`;

/**
 * The width a run ran at: the targets of its job's step among those read (all of them, for runs on
 * the same targets), at most the job's window.
 */
const WIDTH = `least(count(*) OVER (PARTITION BY sr.job_id, sr.step_id), coalesce((j.plan->'policies'->>'maxParallel')::int, 25))`;

interface Figures {
  width: number | null;
  mean_ms: number | null;
  tail_ms: number | null;
  attempts: number | null;
  samples: string;
}

/** Mean and slow end of a step's runs, retries counted: each attempt runs again after a back-off. */
const seconds = (f: Figures, ms: number | null) =>
  ms === null
    ? null
    : Math.round(ms * (f.attempts ?? 1) + ((f.attempts ?? 1) - 1) * RETRY_BACKOFF_SECONDS * 1000) / 1000;

/**
 * The tenant's recent steps as the executors timed them: targets, the job's window, wall time from
 * the first start to the last end, the runs' mean and slow end, and the gap after the step before.
 */
const recentSteps = async (pool: Db, tenantId: string, jobId: string | null): Promise<StepSample[]> => {
  const { rows } = await pool.query<{
    targets: number;
    max_parallel: number;
    wall_s: number;
    mean_s: number;
    tail_s: number;
    gap_s: number | null;
    tool_key: string | null;
  }>(
    `WITH recent AS (
       SELECT id, coalesce((plan->'policies'->>'maxParallel')::int, 25) AS max_parallel FROM jobs
        WHERE tenant_id = $1 AND id IS DISTINCT FROM $2 AND finished_at IS NOT NULL AND status IN ('completed', 'failed')
        ORDER BY finished_at DESC LIMIT $3
     ), steps AS (
       SELECT sr.job_id, r.max_parallel, max(sr.tool_key) AS tool_key, count(*)::int AS targets, min(sr.started_at) AS first_start, max(sr.finished_at) AS last_end,
              avg(extract(epoch FROM sr.finished_at - sr.started_at))::float8 AS mean_s,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM sr.finished_at - sr.started_at))::float8 AS tail_s
         FROM step_results sr JOIN recent r ON r.id = sr.job_id
        WHERE sr.started_at IS NOT NULL AND sr.finished_at IS NOT NULL AND sr.step_id NOT LIKE '%.rollback' AND sr.rerun = 0
        GROUP BY sr.job_id, sr.step_id, r.max_parallel
     )
     SELECT targets, max_parallel, tool_key, extract(epoch FROM last_end - first_start)::float8 AS wall_s, mean_s, tail_s,
            extract(epoch FROM first_start - lag(last_end) OVER (PARTITION BY job_id ORDER BY first_start))::float8 AS gap_s
       FROM steps ORDER BY last_end DESC LIMIT $4`,
    [tenantId, jobId, PLATFORM_JOBS, PLATFORM_STEPS],
  );
  return rows.map((r) => ({
    targets: r.targets,
    maxParallel: r.max_parallel,
    wallSeconds: r.wall_s,
    meanSeconds: r.mean_s,
    tailSeconds: r.tail_s,
    gapSeconds: r.gap_s,
    ...(r.tool_key && { toolKey: r.tool_key }),
  }));
};

/** The targets a plan's steps run on, as a job fixes them (see `resolveJobTargets`). */
export interface EstimateScope {
  tenantId: string;
  /** The job being estimated, left out of its own history; null for a plan before any job. */
  jobId: string | null;
  targets: readonly { id: string }[];
  stepTargets: Readonly<Record<string, readonly number[]>>;
}

/**
 * Expected seconds per target for each step of a job, as the executors timed the runs: the mean of
 * the tool's last successful runs on the same targets in earlier jobs of the tenant; for a tool that
 * never ran on them, its latest runs on other targets; else the tool's own estimate. With them, what
 * the platform adds to a step (dispatch per target and per wave, the gap between steps), learned
 * from the tenant's recent jobs (see `learnPlatform`).
 */
export const createEstimateSteps =
  (pool: Db) =>
  async (input: { jobId: string; steps: StepEstimateRequest[] }): Promise<StepEstimate[]> => {
    ownJobOnly(input.jobId);
    const job = await pool.query<{
      tenant_id: string;
      resolved_targets: { targets: { id: string }[]; stepTargets: Record<string, number[]> };
    }>('SELECT tenant_id, resolved_targets FROM jobs WHERE id = $1', [input.jobId]);
    const row = job.rows[0];
    const scope = row && {
      tenantId: row.tenant_id,
      jobId: input.jobId,
      targets: row.resolved_targets.targets,
      stepTargets: row.resolved_targets.stepTargets,
    };
    return estimateStepsOn(pool, scope, input.steps);
  };

/** The estimates of `createEstimateSteps` for steps on known targets; without a scope, the tools' own. */
export const estimateStepsOn = async (
  pool: Db,
  scope: EstimateScope | undefined,
  steps: readonly StepEstimateRequest[],
  /** When (epoch ms) to give up: no query starts after it, and the estimate fails. */
  deadline = Infinity,
): Promise<StepEstimate[]> => {
  const inTime = () => {
    if (Date.now() > deadline) throw new Error('the estimate ran past its time');
  };
  const platform = learnPlatform(scope ? await recentSteps(pool, scope.tenantId, scope.jobId) : []);
  const row = scope && {
    tenant_id: scope.tenantId,
    resolved_targets: { targets: scope.targets, stepTargets: scope.stepTargets },
  };
  const jobId = scope?.jobId ?? null;
  const out: StepEstimate[] = [];
  for (const step of steps) {
    const indexes = row?.resolved_targets.stepTargets[step.stepId];
    const targetIds = indexes
      ? indexes.map((i) => row.resolved_targets.targets[i]?.id).filter((id): id is string => !!id)
      : ['executor'];
    const base = { stepId: step.stepId, targets: targetIds.length, platform };
    inTime();
    // Per target, the mean of its last runs; over the targets, the mean and the slow end.
    const history = row
      ? await pool.query<Figures>(
          `SELECT avg(t.mean_ms)::float8 AS mean_ms, percentile_cont(0.95) WITHIN GROUP (ORDER BY t.mean_ms)::float8 AS tail_ms,
                    avg(t.attempts)::float8 AS attempts, avg(t.width)::float8 AS width, count(*) AS samples
             FROM (
               SELECT r.target_id, avg(r.ms) AS mean_ms, avg(r.attempt) AS attempts, avg(r.width) AS width FROM (
                 SELECT ${RUN_MS} AS ms, coalesce(sr.attempt, 1) AS attempt, sr.target_id, ${WIDTH} AS width,
                        row_number() OVER (PARTITION BY sr.target_id ORDER BY sr.finished_at DESC NULLS LAST) AS n
                 FROM step_results sr JOIN jobs j ON j.id = sr.job_id
                 WHERE sr.tool_key = $1 AND sr.target_id = ANY($2) AND sr.status = 'succeeded' AND ${RUN_MS} IS NOT NULL
                   AND j.tenant_id = $3 AND j.id IS DISTINCT FROM $4
               ) r WHERE r.n <= $5 GROUP BY r.target_id
             ) t`,
          [step.toolKey, targetIds, row.tenant_id, jobId, HISTORY_RUNS],
        )
      : null;
    const mine = history?.rows[0];
    if (mine && mine.mean_ms !== null && Number(mine.samples) > 0) {
      out.push({
        ...base,
        seconds: seconds(mine, mine.mean_ms),
        tailSeconds: seconds(mine, Math.max(mine.mean_ms, mine.tail_ms ?? mine.mean_ms)),
        from: 'history',
        samples: Number(mine.samples),
        ...(mine.width !== null && { width: mine.width }),
      });
      continue;
    }
    inTime();
    // The tool's latest runs on any of the tenant's targets.
    const other = row
      ? await pool.query<Figures>(
          `SELECT avg(r.ms)::float8 AS mean_ms, percentile_cont(0.95) WITHIN GROUP (ORDER BY r.ms)::float8 AS tail_ms,
                    avg(r.attempt)::float8 AS attempts, avg(r.width)::float8 AS width, count(*) AS samples
             FROM (
               SELECT ${RUN_MS} AS ms, coalesce(sr.attempt, 1) AS attempt, ${WIDTH} AS width
                 FROM step_results sr JOIN jobs j ON j.id = sr.job_id
                WHERE sr.tool_key = $1 AND sr.status = 'succeeded' AND ${RUN_MS} IS NOT NULL AND j.tenant_id = $2 AND j.id IS DISTINCT FROM $3
                ORDER BY sr.finished_at DESC NULLS LAST LIMIT $4
             ) r`,
          [step.toolKey, row.tenant_id, jobId, TOOL_RUNS],
        )
      : null;
    const theirs = other?.rows[0];
    if (theirs && theirs.mean_ms !== null && Number(theirs.samples) > 0)
      out.push({
        ...base,
        seconds: seconds(theirs, theirs.mean_ms),
        tailSeconds: seconds(theirs, Math.max(theirs.mean_ms, theirs.tail_ms ?? theirs.mean_ms)),
        from: 'history',
        otherTargets: true,
        samples: 0,
        ...(theirs.width !== null && { width: theirs.width }),
      });
    else if (step.fallbackSeconds !== null)
      out.push({
        ...base,
        seconds: step.fallbackSeconds,
        tailSeconds: step.fallbackSeconds,
        from: 'tool',
        samples: 0,
      });
    else out.push({ ...base, seconds: null, tailSeconds: null, from: 'none', samples: 0 });
  }
  return out;
};
