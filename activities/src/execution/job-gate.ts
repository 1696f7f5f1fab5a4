import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import { canonicalJson, templateShapeHash } from '@opsc/contracts/plan-hash';
import {
  Action,
  EXECUTOR_TARGET,
  DEFAULT_POOL,
  TARGET_METHODS,
  actionPool,
  poolOf,
  ErrorType,
  MissingFact,
  checkFitsAction,
  executionFields,
  fillFacts,
  isCheckAction,
  isFinalJobStatus,
  maxRisk,
  planActionRisk,
  riskWithin,
  type ExecutionMethod,
  type JobMode,
  type JobResume,
  type Plan,
  type RiskLevel,
  type TargetRef,
} from '@opsc/contracts';
import { createOutageWait, type OutageWait } from './outage/database-outage.js';
import { createRerunCheck } from './rerun-gate.js';

/** What an execution activity is asked to do, as the executor sees it. */
export interface ExecutionRequest {
  /** The workflow that scheduled the activity (Temporal says; the input cannot). */
  workflowId: string;
  jobId: string;
  stepId: string;
  target: TargetRef;
  /** The activity's time limit, as it received it (the step's own; a shell reads it as a number). */
  timeoutSeconds: unknown;
  /** Re-run n of the step (decide `retry`), as the activity received it; absent for its first run. */
  rerun?: unknown;
  method: ExecutionMethod;
  /** The action's fields as the activity received them (see `executionFields`). */
  fields: Record<string, unknown>;
}

/**
 * The executor runs only what a job the API recorded asks for: anyone who reaches Temporal can
 * schedule an activity on the executor's queue, so the queue is no authority. Before anything runs,
 * the request must come from the job's own workflow, the job must be unfinished and, if it needs
 * approval, approved by a person whose decision the API recorded, and the step, target, time limit
 * and action must be the plan's (an undo: the step's rollback filled with what the step reported there).
 * A retry job runs no step its target carries from an earlier job, and undoes such a step only with
 * what the linked job recorded for it there (`jobs.resume`, docs/retry.md).
 */
export interface JobGate {
  admit(request: ExecutionRequest): Promise<void>;
}

interface JobRecord {
  tenantId: string;
  plan: Plan;
  planHash: string;
  targets: { targets: TargetRef[]; stepTargets: Record<string, number[]> };
  /** A retry job only: where each target starts and which job each step before that stands from. */
  resume: JobResume | null;
  /** Set once the job was seen approved (or needing no approval): an approval is never taken back. */
  approved: boolean;
  /** `check`: only the steps' read-only checks run, with no approval; never a change or an undo. */
  mode: JobMode;
  /** When its status was last read and the job was unfinished. */
  statusAt: number;
}

/**
 * How long after its status was last read unfinished an approved job still runs while the database
 * is away (a short outage does not hold its next steps); past it, nothing runs until the status is
 * read: the gate waits for the database (see `OutageWait`), within the activity's own time.
 */
const OUTAGE_GRACE_MS = 60_000;
/** Jobs remembered at once; the oldest goes first. */
const MAX_JOBS = 2_000;

const refuse = (why: string): never => {
  throw ApplicationFailure.create({
    type: ErrorType.Forbidden,
    message: `the executor runs only what an approved job asks for: ${why}`,
    nonRetryable: true,
  });
};

const ROLLBACK = '.rollback';

export interface JobGateOptions {
  /** How a read waits out a database outage (default: no waiting outside an activity's allowance). */
  wait?: OutageWait;
  /** What this executor reported for a step and has not saved yet (its result outbox): newer than the database's. */
  pendingFacts?: (jobId: string, stepId: string, targetId: string) => Record<string, string> | undefined;
  /** The executor pool this executor serves (default `executor`): it acts only on the job's targets of that pool. */
  pool?: string;
  /** A named pool's tenants (ids): jobs of any other tenant are refused. Absent: every tenant (the default pool). */
  tenants?: readonly string[];
}

type Read = { record: JobRecord; status: string } | null;

/**
 * A person's approval of the job's plan hash, confirmed by the job's workflow. Four-eyes: the
 * requester's own approval never counts where the tenant wants a second person.
 */
const COUNTED_APPROVAL = `d.action = 'approve' AND d.status IN ('confirmed', 'applied')
  AND d.plan_hash = j.plan_hash AND d.role IN ('approver', 'admin')
  AND NOT (d.actor = j.requested_by AND coalesce((SELECT t.four_eyes FROM tenants t WHERE t.id = j.tenant_id), true))`;

export const createJobGate = (pool: pg.Pool, options: JobGateOptions = {}): JobGate => {
  const wait = options.wait ?? createOutageWait();
  const myPool = options.pool ?? DEFAULT_POOL;
  const jobs = new Map<string, JobRecord>();
  const rerunAllowed = createRerunCheck(pool, wait, refuse);

  const read = async (jobId: string): Promise<Read> => {
    const { rows } = await pool.query<{
      tenant_id: string;
      plan: Plan;
      plan_hash: string;
      resolved_targets: JobRecord['targets'];
      status: string;
      mode: JobMode;
      approved: boolean;
      resume: JobResume | null;
      preapproved: { shapeHash: string; plan: unknown; parameters: unknown; risk: RiskLevel }[];
      risk: RiskLevel;
    }>(
      `SELECT j.tenant_id, j.plan, j.plan_hash, j.resolved_targets, j.status, j.resume, j.mode, j.risk,
              EXISTS (SELECT 1 FROM job_decisions d
                       WHERE d.job_id = j.id AND d.preapproval_id IS NULL AND ${COUNTED_APPROVAL}) AS approved,
              -- A template run's approval, in a pre-approver's name: it counts for a job the API recorded
              -- as a run of that very version, while the pre-approval it names held when it was recorded,
              -- for this tenant and this approver; the version's shape is checked below against the
              -- hash the approver approved.
              (SELECT coalesce(jsonb_agg(jsonb_build_object('shapeHash', p.shape_hash, 'plan', v.plan, 'parameters', v.parameters, 'risk', v.risk)), '[]'::jsonb)
                 FROM job_decisions d
                 JOIN template_preapprovals p ON p.id = d.preapproval_id
                 JOIN template_versions v ON v.id = p.version_id
                WHERE d.job_id = j.id AND ${COUNTED_APPROVAL}
                  AND p.tenant_id = j.tenant_id AND v.tenant_id = j.tenant_id AND p.approved_by = d.actor
                  AND j.origin->>'templateId' = v.template_id::text AND j.origin->>'version' = v.version::text
                  AND (p.voided_at IS NULL OR p.voided_at > d.created_at)) AS preapproved
         FROM jobs j WHERE j.id = $1`,
      [jobId],
    );
    const row = rows[0];
    if (!row) return null;
    // A check-mode job needs no approval: what it may run is its steps' checks, and nothing else (admit).
    // A pre-approval covers a run no riskier than the version it approved: the job's recorded risk
    // and what its own steps' actions and tools say.
    const runRisk = maxRisk(row.risk, planActionRisk(row.plan));
    const approved =
      row.approved ||
      row.preapproved.some(
        (p) =>
          templateShapeHash({ plan: p.plan, parameters: p.parameters }) === p.shapeHash && riskWithin(runRisk, p.risk),
      ) ||
      !row.plan.policies.approvalRequired ||
      row.mode === 'check';
    return {
      record: {
        tenantId: row.tenant_id,
        plan: row.plan,
        planHash: row.plan_hash,
        targets: row.resolved_targets,
        resume: row.resume ?? null,
        approved,
        mode: row.mode,
        statusAt: Date.now(),
      },
      status: row.status,
    };
  };

  /** Only the status of a job whose record is known: one row's column, read at every request. */
  const statusOf = async (jobId: string): Promise<string | null> => {
    const { rows } = await pool.query<{ status: string }>('SELECT status FROM jobs WHERE id = $1', [jobId]);
    return rows[0]?.status ?? null;
  };

  /**
   * The job's record, its status read now: a job that just finished admits nothing more, however
   * soon after its last step a request comes (whoever reaches Temporal sees the moment it ends).
   * A database that is away leaves a job admitted a moment ago running, for a short while only;
   * otherwise the gate waits for it, and admits only once the status is read.
   */
  const jobOf = async (jobId: string): Promise<JobRecord> => {
    let known: JobRecord | undefined;
    let answer: { fresh: Read } | { graced: JobRecord };
    try {
      answer = await wait.outlast<{ fresh: Read } | { graced: JobRecord }>(
        `the record of job ${jobId}`,
        async () => {
          known = jobs.get(jobId);
          if (!known?.approved) return { fresh: await read(jobId) };
          const status = await statusOf(jobId);
          return { fresh: status === null ? null : { record: { ...known, statusAt: Date.now() }, status } };
        },
        () => {
          const remembered = jobs.get(jobId);
          return remembered?.approved && Date.now() - remembered.statusAt < OUTAGE_GRACE_MS
            ? { graced: remembered }
            : undefined;
        },
      );
    } catch (err) {
      if (err instanceof ApplicationFailure) throw err;
      throw ApplicationFailure.retryable(
        `the job's record cannot be read now (${(err as Error).message})`,
        ErrorType.Unavailable,
      );
    }
    if ('graced' in answer) return answer.graced;
    const fresh = answer.fresh;
    if (!fresh) return refuse(`there is no job ${jobId}`);
    if (isFinalJobStatus(fresh.status)) {
      jobs.delete(jobId);
      return refuse(`job ${jobId} is over (${fresh.status})`);
    }
    const record = { ...fresh.record, approved: fresh.record.approved || (known?.approved ?? false) };
    jobs.delete(jobId);
    jobs.set(jobId, record);
    if (jobs.size > MAX_JOBS) jobs.delete(jobs.keys().next().value!);
    return record;
  };

  /** What the step reported on the target, for its undo: this executor's unsaved result first, else the database's. */
  const factsOf = async (jobId: string, stepId: string, targetId: string): Promise<Record<string, string> | null> => {
    const pending = options.pendingFacts?.(jobId, stepId, targetId);
    if (pending) return pending;
    return wait.outlast(`what step ${stepId} reported on target ${targetId}`, async () => {
      const { rows } = await pool.query<{ facts: Record<string, string> | null }>(
        'SELECT facts FROM step_results WHERE job_id = $1 AND step_id = $2 AND target_id = $3',
        [jobId, stepId, targetId],
      );
      return rows[0] ? (rows[0].facts ?? {}) : null;
    });
  };

  /**
   * What a carried step reported on the target in the job it stands from (a retry job's undo of a
   * step it did not run): only a success of that job, of the same tenant and plan hash, counts.
   */
  const carriedFactsOf = async (
    job: JobRecord,
    linkedJobId: string,
    stepId: string,
    targetId: string,
  ): Promise<Record<string, string> | null> =>
    wait.outlast(`what step ${stepId} reported on target ${targetId} in job ${linkedJobId}`, async () => {
      const { rows } = await pool.query<{ facts: Record<string, string> | null }>(
        `SELECT r.facts FROM step_results r JOIN jobs j ON j.id = r.job_id
          WHERE r.job_id = $1 AND r.step_id = $2 AND r.target_id = $3 AND r.status = 'succeeded'
            AND j.tenant_id = $4 AND j.plan_hash = $5`,
        [linkedJobId, stepId, targetId, job.tenantId, job.planHash],
      );
      return rows[0] ? (rows[0].facts ?? {}) : null;
    });

  /** A retry job's undo of a step its target carries: the facts the linked job recorded, or a refusal. */
  const undoFacts = async (
    request: ExecutionRequest,
    job: JobRecord,
    stepId: string,
  ): Promise<Record<string, string> | null> => {
    const resumed = job.resume?.targets[request.target.id];
    const index = job.plan.steps.findIndex((s) => s.id === stepId);
    if (!resumed || index >= resumed.start) return factsOf(request.jobId, stepId, request.target.id);
    const carried = resumed.done[stepId];
    if (!carried)
      return refuse(`job ${request.jobId} neither ran nor carries step ${stepId} on ${request.target.name}: no undo`);
    const facts = await carriedFactsOf(job, carried.jobId, stepId, request.target.id);
    if (facts === null)
      return refuse(
        `job ${carried.jobId}, which job ${request.jobId} carries step ${stepId} on ${request.target.name} from, has no success of it on record`,
      );
    return facts;
  };

  return {
    async admit(request) {
      if (request.workflowId !== request.jobId)
        refuse(`the request came from workflow ${request.workflowId}, not from job ${request.jobId}`);
      const job = await jobOf(request.jobId);
      // A named pool is served for chosen tenants: another tenant's job never runs here.
      if (options.tenants && !options.tenants.includes(job.tenantId))
        refuse(`job ${request.jobId} is of a tenant pool ${myPool}'s executors do not serve`);
      if (!job.approved) refuse(`job ${request.jobId} waits for approval`);
      const undo = request.stepId.endsWith(ROLLBACK);
      const stepId = undo ? request.stepId.slice(0, -ROLLBACK.length) : request.stepId;
      const step = job.plan.steps.find((s) => s.id === stepId);
      if (!step) return refuse(`job ${request.jobId} has no step ${stepId}`);
      // The target: one of the step's own, or the executor for a step that runs there.
      if (step.targets) {
        const mine = (job.targets.stepTargets[step.id] ?? []).map((i) => job.targets.targets[i]);
        const recorded = mine.find((t) => t?.id === request.target.id);
        if (!recorded) refuse(`step ${step.id} of job ${request.jobId} does not run on ${request.target.name}`);
        // A pool's executors act only on its targets, and only over the target's own protocol: a
        // site's executor never reaches another site's hosts, nor makes a call of its own from the
        // site's network (an HTTP or local-command undo runs in the default pool).
        else if (actionPool(request.method, recorded) !== myPool)
          refuse(
            TARGET_METHODS.has(request.method)
              ? `${request.target.name} is in executor pool ${poolOf(recorded)}; this executor serves pool ${myPool}`
              : `a ${request.method} action runs on the default pool's executors; this executor serves pool ${myPool}`,
          );
      } else if (request.target.id !== EXECUTOR_TARGET.id) {
        refuse(`step ${step.id} of job ${request.jobId} runs on the executor, not on ${request.target.name}`);
      } else if (myPool !== DEFAULT_POOL) {
        refuse(`step ${step.id} runs on the default pool's executors; this executor serves pool ${myPool}`);
      }
      // The time limit is the step's (an undo's too): it reaches a remote shell's command line.
      if (request.timeoutSeconds !== step.timeoutSeconds)
        refuse(
          `step ${step.id} of job ${request.jobId} runs for ${step.timeoutSeconds} s, not ${String(request.timeoutSeconds).slice(0, 40)}`,
        );
      // A retry job never runs again a step that stands on the target from an earlier job.
      const resumed = job.resume?.targets[request.target.id];
      const index = job.plan.steps.indexOf(step);
      if (!undo && resumed && index < resumed.start)
        refuse(
          `step ${step.id} stands on ${request.target.name} from job ${resumed.done[step.id]?.jobId ?? 'an earlier job'}; retry job ${request.jobId} does not run it again`,
        );
      if (request.rerun !== undefined) {
        if (undo) refuse(`an undo is never run again as a re-run (step ${step.id} of job ${request.jobId})`);
        if (job.mode === 'check') refuse(`job ${request.jobId} runs in check mode: nothing is run again`);
        await rerunAllowed(request, job.plan, step);
      }
      let action: Action = step.action;
      if (job.mode === 'check') {
        if (undo) return refuse(`job ${request.jobId} runs in check mode: it undoes nothing`);
        if (step.check?.kind !== 'probe' || !isCheckAction(step.check.action))
          return refuse(`job ${request.jobId} runs in check mode and step ${step.id} has no check to run`);
        // The API records only the check it derives from the step's tool: the read-only twin of the
        // step's own change. A record saying otherwise was not written by it, and probes nothing.
        if (!checkFitsAction(step.check.action, step.action))
          return refuse(`the check of step ${step.id} of job ${request.jobId} is not a check of its own change`);
        action = step.check.action;
      } else if (undo) {
        if (!step.rollback) return refuse(`step ${step.id} of job ${request.jobId} has no undo`);
        const facts = await undoFacts(request, job, step.id);
        // No record of the step on that target yet: another executor may still hold it, waiting for
        // the database. Not admitted, and asked again later (retryable), never refused for good.
        if (facts === null) {
          throw ApplicationFailure.retryable(
            `what step ${step.id} reported on ${request.target.name} is not on record yet; its undo waits for it`,
            ErrorType.Unavailable,
          );
        }
        let filled: unknown;
        try {
          filled = fillFacts(step.rollback.action, facts);
        } catch (err) {
          if (err instanceof MissingFact)
            return refuse(
              `the undo of step ${step.id} needs ${err.message}, which the step did not report on ${request.target.name}`,
            );
          throw err;
        }
        const parsed = Action.safeParse(filled);
        if (!parsed.success)
          return refuse(`the undo of step ${step.id} is not a valid action on ${request.target.name}`);
        action = parsed.data;
      }
      if (
        action.method !== request.method ||
        canonicalJson(executionFields(action)) !== canonicalJson(request.fields)
      ) {
        refuse(
          `${request.method} on ${request.target.name} is not what step ${request.stepId} of job ${request.jobId} does`,
        );
      }
    },
  };
};
