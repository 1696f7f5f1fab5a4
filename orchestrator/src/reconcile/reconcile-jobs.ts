import type { Client } from '@temporalio/client';
import type pg from 'pg';
import { FINAL_JOB_STATUSES } from '@opsc/contracts';
import type { Logger } from '@opsc/telemetry';
import type { OrchestratorMetrics } from '../metrics/orchestrator-metrics.js';
import { closureVerdict, type ClosureVerdict, type WorkflowClosure } from './closure-verdict.js';
import { workflowClosure } from './workflow-closure.js';

export interface ReconcileDeps {
  pool: pg.Pool;
  client: Client;
  namespace: string;
  log: Logger;
  /**
   * A job whose workflow Temporal does not know is closed only once it is this old: the API writes
   * the job's row a moment before it starts the workflow.
   */
  missingGraceSeconds: number;
  /** Counts the jobs it closes with the others that finished (opsc_jobs_finished_total), when metrics are on. */
  metrics?: Pick<OrchestratorMetrics, 'jobFinished'>;
}

/** One orchestrator sweeps at a time; the others skip the pass (a session lock dies with its connection). */
const LOCK_KEY = "hashtext('opsc.reconcile-jobs')";
const PAGE = 200;
const FINAL = [...FINAL_JOB_STATUSES];

interface OpenJob {
  id: string;
  status: string;
  age_seconds: number;
}

/**
 * Writes the verdict if the job still has the status the sweep saw: a job that moved on (its
 * workflow wrote a new status meanwhile) waits for the next pass, and a final status is never
 * changed. The audit entry lands in the same statement, so two sweepers cannot both record it.
 */
const recordVerdict = async (
  pool: pg.Pool,
  job: OpenJob,
  closure: WorkflowClosure,
  verdict: ClosureVerdict,
): Promise<boolean> => {
  const { rowCount } = await pool.query(
    `WITH changed AS (
       UPDATE jobs SET status = $3, error_type = $4, error_message = $5, finished_at = now(), updated_at = now()
       WHERE id = $1 AND status = $2 AND NOT (status = ANY($6::text[]))
       RETURNING id, tenant_id, plan_hash
     )
     INSERT INTO audit_log (tenant_id, actor, action, object_type, object_id, job_id, plan_hash, details)
     SELECT tenant_id, 'reconciler', 'job.reconciled', 'job', id, id, plan_hash, $7::jsonb FROM changed`,
    [
      job.id,
      job.status,
      verdict.status,
      verdict.error.type,
      verdict.error.message,
      FINAL,
      JSON.stringify({
        from: job.status,
        to: verdict.status,
        workflow: closure.status,
        ...(closure.runId && { runId: closure.runId }),
        message: verdict.error.message,
      }),
    ],
  );
  return rowCount === 1;
};

/**
 * Whether Temporal's namespace holds this database's jobs at all: the workflow of a job it knows
 * (the one that started last) must be there. An orchestrator pointed at another namespace or
 * cluster (a wrong TEMPORAL_NAMESPACE, a restored database) would otherwise close every open job,
 * running ones included, as "gone". Unsure means no: such jobs wait for a pass that can tell.
 */
const namespaceKnowsOurJobs = async (deps: ReconcileDeps): Promise<boolean> => {
  const { rows } = await deps.pool.query<{ id: string }>(
    `SELECT id FROM jobs WHERE status <> 'queued' AND created_at > now() - interval '1 day' ORDER BY created_at DESC LIMIT 5`,
  );
  for (const { id } of rows) {
    const closure = await workflowClosure(deps.client, deps.namespace, id).catch(() => ({
      status: 'NOT_FOUND' as const,
    }));
    if (closure?.status !== 'NOT_FOUND') return true;
  }
  deps.log.error(
    "reconciliation: Temporal does not know the workflows of this database's recent jobs; jobs it does not know are left open (is TEMPORAL_NAMESPACE right?)",
    {
      namespace: deps.namespace,
      probed: rows.length,
    },
  );
  return false;
};

/**
 * One pass: every job whose status is not final is checked against its workflow, and a job whose
 * workflow is closed (or gone) gets the final status Temporal's account gives it. A job whose
 * workflow still runs is never touched. Returns null when another orchestrator holds the pass.
 */
export const reconcileJobs = async (deps: ReconcileDeps): Promise<{ checked: number; closed: number } | null> => {
  const lock = await deps.pool.connect();
  let lockError: Error | undefined;
  try {
    const held = (await lock.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${LOCK_KEY}) AS ok`)).rows[0]?.ok;
    if (!held) return null;
    try {
      let checked = 0;
      let closed = 0;
      let after = '';
      /** Asked once per pass, at the first job Temporal does not know. */
      let knowsOurJobs: Promise<boolean> | undefined;
      for (;;) {
        const { rows } = await deps.pool.query<OpenJob>(
          `SELECT id, status, extract(epoch FROM now() - created_at)::float8 AS age_seconds
           FROM jobs WHERE NOT (status = ANY($1::text[])) AND id > $2 ORDER BY id LIMIT $3`,
          [FINAL, after, PAGE],
        );
        for (const job of rows) {
          checked++;
          const closure = await workflowClosure(deps.client, deps.namespace, job.id).catch((err: unknown) => {
            deps.log.warn('reconciliation could not ask Temporal about a job', {
              jobId: job.id,
              error: (err as Error).message,
            });
            return undefined;
          });
          if (!closure || (closure.status === 'NOT_FOUND' && job.age_seconds < deps.missingGraceSeconds)) continue;
          if (closure.status === 'NOT_FOUND' && !(await (knowsOurJobs ??= namespaceKnowsOurJobs(deps)))) continue;
          const verdict = closureVerdict(closure);
          if (await recordVerdict(deps.pool, job, closure, verdict)) {
            closed++;
            deps.metrics?.jobFinished(verdict.status);
            deps.log.warn('job reconciled: its workflow closed without recording its end', {
              jobId: job.id,
              from: job.status,
              to: verdict.status,
              workflow: closure.status,
            });
          }
        }
        if (rows.length < PAGE) return { checked, closed };
        after = rows.at(-1)!.id;
      }
    } finally {
      await lock.query(`SELECT pg_advisory_unlock(${LOCK_KEY})`).catch((err: Error) => {
        lockError = err;
      });
    }
  } finally {
    // A connection whose unlock failed is dropped, which frees the lock with it.
    lock.release(lockError);
  }
};
