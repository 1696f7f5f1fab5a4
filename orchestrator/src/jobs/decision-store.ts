import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { toStorableText, type Decision, type DecisionAction } from '@opsc/contracts';

export interface NewDecision {
  jobId: string;
  tenantId: string;
  userId: string;
  actor: string;
  role: Decision['role'];
  action: DecisionAction;
  planHash: string;
  comment: string | null;
  mode: Decision['mode'];
  choice: Decision['choice'];
  /** decide `retry`: the step and re-run the job asked about (see `Decision.retry`). */
  retry?: Decision['retry'];
  sourceIp: string | null;
  /** A template run's approval, recorded in the pre-approver's name: the pre-approval it stands for. */
  preapprovalId?: string | null;
}

/**
 * Records a decision as the API authenticated it, and its audit entry, in one statement (one
 * transaction), before the workflow hears of it; the workflow acts only on a row written here.
 */
export const recordDecision = async (pool: pg.Pool | pg.PoolClient, d: NewDecision): Promise<string> => {
  const id = randomUUID();
  const details = {
    decisionId: id,
    action: d.action,
    role: d.role,
    ...(d.comment && { comment: d.comment }),
    ...(d.mode && { mode: d.mode }),
    ...(d.choice && { choice: d.choice }),
    ...(d.retry && { stepId: d.retry.stepId, rerun: d.retry.rerun }),
    ...(d.preapprovalId && { preapprovalId: d.preapprovalId }),
  };
  await pool.query(
    `WITH recorded AS (
       INSERT INTO job_decisions (id, job_id, tenant_id, user_id, actor, role, action, plan_hash, comment, mode, choice, source_ip, preapproval_id, retry_step_id, rerun)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $14, $15, $16) RETURNING *
     )
     INSERT INTO audit_log (tenant_id, actor, action, object_type, object_id, job_id, plan_hash, source_ip, details)
     SELECT tenant_id, actor, 'job.decision.recorded', 'job', job_id, job_id, plan_hash, source_ip, $13::jsonb FROM recorded`,
    [
      id,
      d.jobId,
      d.tenantId,
      d.userId,
      d.actor,
      d.role,
      d.action,
      d.planHash,
      d.comment,
      d.mode,
      d.choice,
      d.sourceIp,
      JSON.stringify(details),
      d.preapprovalId ?? null,
      d.retry?.stepId ?? null,
      d.retry?.rerun ?? null,
    ],
  );
  return id;
};

/**
 * Closes a decision the workflow refused before taking it up (its validator: the job's state rules
 * it out, or the job is over), with the reason, so that it can never be used later.
 */
export const abandonDecision = async (pool: pg.Pool, id: string, reason: string): Promise<void> => {
  await pool.query(
    `WITH refused AS (
       UPDATE job_decisions SET status = 'refused', refusal = $2, decided_at = now() WHERE id = $1 AND status = 'recorded' RETURNING *
     )
     INSERT INTO audit_log (tenant_id, actor, action, object_type, object_id, job_id, plan_hash, source_ip, details)
     SELECT tenant_id, actor, 'job.decision.refused', 'job', job_id, job_id, plan_hash, source_ip,
            jsonb_build_object('decisionId', id, 'action', action, 'role', role, 'reason', $2::text) FROM refused`,
    [id, toStorableText(reason)],
  );
};
