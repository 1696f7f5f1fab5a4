import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import {
  ErrorType,
  toStorableText,
  type ConfirmDecisionInput,
  type ConfirmDecisionResult,
  type Decision,
  type RefuseDecisionInput,
} from '@opsc/contracts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/**
 * A decision the job has not taken up this long after the API recorded it is stale: the API
 * stopped waiting for the workflow after 15 s and told its caller so.
 */
const DECISION_TTL_SECONDS = 120;

interface DecisionRow {
  id: string;
  job_id: string;
  tenant_id: string;
  action: Decision['action'];
  actor: string;
  role: Decision['role'];
  plan_hash: string;
  comment: string | null;
  mode: Decision['mode'];
  choice: Decision['choice'];
  retry_step_id: string | null;
  rerun: number | null;
  source_ip: string | null;
  created_at: Date;
  status: 'recorded' | 'confirmed' | 'applied' | 'refused';
  confirmed_by: string | null;
  fresh: boolean;
  user_role: string | null;
  user_disabled: boolean | null;
  job_tenant: string;
}

const decisionOf = (r: DecisionRow): Decision => ({
  id: r.id,
  jobId: r.job_id,
  tenantId: r.tenant_id,
  action: r.action,
  by: r.actor,
  role: r.role,
  planHash: r.plan_hash,
  comment: r.comment,
  mode: r.mode,
  choice: r.choice,
  retry: r.retry_step_id !== null && r.rerun !== null ? { stepId: r.retry_step_id, rerun: r.rerun } : null,
  sourceIp: r.source_ip,
  at: r.created_at.toISOString(),
});

/** The job is the calling workflow's id: whatever the workflow passes, a decision counts only for its own job. */
const callingJob = (): { jobId: string; runId: string; activityId: string } => {
  const { workflowExecution, activityId } = Context.current().info;
  if (!workflowExecution)
    throw ApplicationFailure.nonRetryable(
      'decisions are confirmed by the workflow of their job only',
      ErrorType.Forbidden,
    );
  return { jobId: workflowExecution.workflowId, runId: workflowExecution.runId, activityId };
};

/** What an update claimed, cut short and made storable: it is an attacker's text until proven otherwise. */
const claimedText = (value: unknown): string => toStorableText(String(value).slice(0, 200));

/** Why a row cannot be what this update says it is, or null when it can. */
const forgery = (row: DecisionRow | undefined, jobId: string, input: ConfirmDecisionInput): string | null => {
  if (!row) return 'no decision was recorded with this id';
  if (row.job_id !== jobId) return 'the decision was recorded for another job';
  if (row.action !== input.action) return `the decision was recorded to ${row.action}, not to ${input.action}`;
  if (row.status !== 'recorded') return `the decision was used already (it is ${row.status})`;
  if (row.job_tenant !== row.tenant_id) return 'the decision was recorded in another tenant';
  return null;
};

/** Why a genuine decision can no longer count, or null when it can. */
const staleness = (row: DecisionRow): string | null => {
  if (!row.fresh) return `it was recorded more than ${DECISION_TTL_SECONDS} s before the job took it up`;
  if (row.user_role === null || row.user_disabled) return `${row.actor} is no longer an active user of the tenant`;
  if (row.user_role !== row.role) return `${row.actor}'s role changed from ${row.role} to ${row.user_role} since`;
  return null;
};

/**
 * Confirms the decision an update names, and uses it up, in one transaction. The job is this
 * activity's workflow id, not anything the workflow passes: a decision counts only for the job and
 * action the API recorded it for, once. A retry of the same activity (same run, same activity id)
 * gets the same answer; any other use is a replay.
 */
export const createConfirmDecision =
  (pool: pg.Pool) =>
  async (input: ConfirmDecisionInput): Promise<ConfirmDecisionResult> => {
    const { jobId, runId, activityId } = callingJob();
    const claimant = `${jobId}/${runId}/${activityId}`;
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const found = UUID.test(input.decisionId)
        ? await client.query<DecisionRow>(
            `SELECT d.*, d.created_at > now() - make_interval(secs => $2) AS fresh, u.role AS user_role, u.disabled AS user_disabled, j.tenant_id AS job_tenant
             FROM job_decisions d JOIN jobs j ON j.id = d.job_id
             LEFT JOIN users u ON u.id = d.user_id AND u.tenant_id = d.tenant_id AND u.username = d.actor
             WHERE d.id = $1 FOR UPDATE OF d`,
            [input.decisionId, DECISION_TTL_SECONDS],
          )
        : undefined;
      const row = found?.rows[0];
      let result: ConfirmDecisionResult;
      if (row && row.job_id === jobId && row.confirmed_by === claimant) {
        result = { confirmed: true, decision: decisionOf(row) };
      } else {
        const forged = forgery(row, jobId, input);
        const stale = forged === null && row ? staleness(row) : null;
        if (forged !== null) {
          const claimed = Object.fromEntries(
            Object.entries(input.claimed)
              .slice(0, 8)
              .map(([k, v]) => [claimedText(k), claimedText(v)]),
          );
          await client.query(
            `INSERT INTO audit_log (tenant_id, actor, action, object_type, object_id, job_id, plan_hash, details)
             SELECT (SELECT tenant_id FROM jobs WHERE id = $1), 'unknown', 'job.decision.forged', 'job', $1, $1, (SELECT plan_hash FROM jobs WHERE id = $1), $2::jsonb`,
            [
              jobId,
              JSON.stringify({
                update: input.action,
                decisionId: claimedText(input.decisionId),
                claimed,
                reason: forged,
              }),
            ],
          );
          result = { confirmed: false, forged: true, reason: `refused: ${forged}; nothing was changed` };
        } else if (stale !== null && row) {
          await client.query(
            `WITH refused AS (UPDATE job_decisions SET status = 'refused', refusal = $2, decided_at = now() WHERE id = $1 RETURNING *)
             INSERT INTO audit_log (tenant_id, actor, action, object_type, object_id, job_id, plan_hash, source_ip, details)
             SELECT tenant_id, actor, 'job.decision.refused', 'job', job_id, job_id, plan_hash, source_ip,
                    jsonb_build_object('decisionId', id, 'action', action, 'role', role, 'reason', $2::text) FROM refused`,
            [row.id, stale],
          );
          result = {
            confirmed: false,
            forged: false,
            reason: `the ${row.action} of ${row.actor} no longer counts: ${stale}`,
          };
        } else if (row) {
          await client.query(
            `UPDATE job_decisions SET status = 'confirmed', confirmed_by = $2, confirmed_at = now() WHERE id = $1`,
            [row.id, claimant],
          );
          result = { confirmed: true, decision: decisionOf(row) };
        } else {
          throw new Error('unreachable: a missing decision is a forgery');
        }
      }
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  };

/** Marks a confirmed decision of this activity's job refused by the job's rules, and audits it once. */
export const createRefuseDecision =
  (pool: pg.Pool) =>
  async ({ decisionId, reason }: RefuseDecisionInput): Promise<void> => {
    const { jobId } = callingJob();
    await pool.query(
      `WITH refused AS (
         UPDATE job_decisions SET status = 'refused', refusal = $3, decided_at = now()
         WHERE id = $1 AND job_id = $2 AND status = 'confirmed' RETURNING *
       )
       INSERT INTO audit_log (tenant_id, actor, action, object_type, object_id, job_id, plan_hash, source_ip, details)
       SELECT tenant_id, actor, 'job.decision.refused', 'job', job_id, job_id, plan_hash, source_ip,
              jsonb_build_object('decisionId', id, 'action', action, 'role', role, 'reason', $3::text) FROM refused`,
      [decisionId, jobId, toStorableText(reason)],
    );
  };
