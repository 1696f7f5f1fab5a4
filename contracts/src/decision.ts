import { z } from 'zod';

/** What a person may decide about a running job; each is a Temporal update of the same name. */
export const DecisionAction = z.enum(['approve', 'reject', 'pause', 'resume', 'cancel', 'decide']);
export type DecisionAction = z.infer<typeof DecisionAction>;

/** What a mid-run decision chooses: go on past the failures, roll back, or run the failed targets again. */
export const DecisionChoice = z.enum(['continue', 'rollback', 'retry']);
export type DecisionChoice = z.infer<typeof DecisionChoice>;

/** How many times one step's failed targets may be run again inside one run of the job. */
export const MAX_RERUNS_PER_STEP = 3;

/**
 * A decision as the API recorded it (`job_decisions`), with the actor it authenticated. The
 * workflow acts on this, once an activity has confirmed the row, never on what an update says.
 */
export interface Decision {
  id: string;
  jobId: string;
  tenantId: string;
  action: DecisionAction;
  by: string;
  role: 'viewer' | 'operator' | 'approver' | 'admin';
  /** The plan hash the actor was shown (approve), else the job's. */
  planHash: string;
  comment: string | null;
  /** cancel only. */
  mode: 'finish' | 'interrupt' | null;
  /** decide only. */
  choice: DecisionChoice | null;
  /**
   * decide `retry` only: the step whose failed targets run again, and which re-run of that step this
   * is (1 for the first). The API reads both from the job's question when it records the decision;
   * the workflow refuses a decision that names another, and the executor runs re-run n of a step
   * only for a retry decision on record that names it.
   */
  retry?: { stepId: string; rerun: number } | null;
  sourceIp: string | null;
  /** When the API recorded it. */
  at: string;
}

export interface ConfirmDecisionInput {
  /** As the update carried it: anything, until the row is found. */
  decisionId: string;
  action: DecisionAction;
  /** What else the update said (who, which role), kept in the audit entry of a forgery; never believed. */
  claimed: Record<string, string>;
}

/**
 * A confirmed decision is used up: it cannot be confirmed again (a retry of the same activity gets
 * the same answer). `forged`: no decision of this job and action that was never used (audited as
 * `job.decision.forged`); otherwise the recorded decision was refused (stale, or its actor is gone).
 */
export type ConfirmDecisionResult =
  { confirmed: true; decision: Decision } | { confirmed: false; forged: boolean; reason: string };

export interface RefuseDecisionInput {
  decisionId: string;
  reason: string;
}
