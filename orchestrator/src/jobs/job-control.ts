import { ApplicationFailure, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ErrorType, type Decision, type DecisionAction, type DecisionChoice } from '@opsc/contracts';
import {
  approveUpdate,
  cancelUpdate,
  decideUpdate,
  pauseUpdate,
  progressQuery,
  rejectUpdate,
  resumeUpdate,
  type ControlAnswer,
} from '@opsc/contracts/temporal';
import { Conflict, DomainError, Unavailable } from '../errors.js';
import { withTimeout } from '../with-timeout.js';
import type { Caller, JobDeps } from './deps.js';
import { abandonDecision, recordDecision } from './decision-store.js';
import { jobOf } from './job-queries.js';

/** An update waits for the workflow to take it (and record it); past this the API answers 503. */
const UPDATE_TIMEOUT_MS = 15_000;

const updates = {
  approve: approveUpdate,
  reject: rejectUpdate,
  pause: pauseUpdate,
  resume: resumeUpdate,
  cancel: cancelUpdate,
  decide: decideUpdate,
} as const;

/** What a decision says besides its action: the plan it approves, a comment, how to cancel, which way to go. */
export interface DecisionFields {
  planHash?: string;
  comment?: string | undefined;
  mode?: 'finish' | 'interrupt';
  choice?: DecisionChoice;
}

/** A query's answer waits this long; a job that does not answer cannot be asked to retry. */
const QUERY_TIMEOUT_MS = 5_000;

/**
 * What a `retry` decision runs again, as the job's question says: the step and which re-run. The
 * workflow checks the recorded decision against its question again, and the executor runs the
 * re-run only for a decision on record that names it.
 */
const retryAsked = async (deps: Pick<JobDeps, 'client'>, jobId: string): Promise<NonNullable<Decision['retry']>> => {
  let progress;
  try {
    progress = await withTimeout(
      deps.client.workflow.getHandle(jobId).query(progressQuery),
      QUERY_TIMEOUT_MS,
      'progress query',
    );
  } catch (err) {
    throw new Unavailable(`the job could not be asked what it would retry: ${(err as Error).message}`);
  }
  const offer = progress.decision?.status === 'pending' ? progress.decision.retry : undefined;
  if (!offer) throw new Conflict(`the job is not waiting for a decision it can retry; it is ${progress.status}`);
  if (offer.unavailable) throw new Conflict(`no retry: ${offer.unavailable}`);
  return { stepId: offer.stepId, rerun: offer.rerun };
};

/** Maps a refused or failed update to a domain error, with the workflow's own reason. */
export const updateFailure = (err: unknown): DomainError => {
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
    const type = (Object.values(ErrorType) as string[]).includes(err.cause.type ?? '')
      ? (err.cause.type as ErrorType)
      : ErrorType.Conflict;
    return new DomainError(type, err.cause.message);
  }
  if (err instanceof WorkflowNotFoundError || (err as Error).name === 'WorkflowNotFoundError')
    return new Conflict('the job has finished');
  if ((err as Error).message?.includes('workflow execution already completed'))
    return new Conflict('the job has finished');
  if ((err as Error).message?.startsWith('update took longer'))
    return new Unavailable('the job did not take the request in time (is an orchestrator worker running?)');
  return new Unavailable(`the job could not take the request: ${(err as Error).message}`);
};

/**
 * Sends a recorded decision's id to the job's workflow and waits for its answer. A decision the
 * workflow refused before taking it up (or a finished job) is closed with the reason, never to be
 * used later; one it did not answer in time may still be taken up.
 */
export const sendDecision = async (
  deps: Pick<JobDeps, 'pool' | 'client'>,
  jobId: string,
  action: DecisionAction,
  decisionId: string,
): Promise<ControlAnswer> => {
  try {
    return await withTimeout(
      deps.client.workflow.getHandle(jobId).executeUpdate(updates[action], { args: [{ decisionId }] }),
      UPDATE_TIMEOUT_MS,
      'update',
    );
  } catch (err) {
    const failure = updateFailure(err);
    if (failure.type !== ErrorType.Unavailable) await abandonDecision(deps.pool, decisionId, failure.message);
    throw failure;
  }
};

/**
 * Records the caller's decision (and its audit entry), then sends its id to the job's workflow,
 * which confirms the record through an activity and checks the rules against it.
 */
export const controlJob = async (
  deps: Pick<JobDeps, 'pool' | 'client' | 'log'>,
  caller: Caller,
  id: string,
  action: DecisionAction,
  fields: DecisionFields,
): Promise<ControlAnswer> => {
  const job = await jobOf(deps, caller.tenantId, id);
  const retry = action === 'decide' && fields.choice === 'retry' ? await retryAsked(deps, job.id) : null;
  const decisionId = await recordDecision(deps.pool, {
    jobId: job.id,
    tenantId: caller.tenantId,
    userId: caller.userId,
    actor: caller.username,
    role: caller.role,
    action,
    planHash: fields.planHash ?? job.plan_hash,
    comment: fields.comment || null,
    mode: fields.mode ?? null,
    choice: fields.choice ?? null,
    retry,
    sourceIp: caller.sourceIp ?? null,
  });
  const answer = await sendDecision(deps, job.id, action, decisionId);
  deps.log.info('job control', {
    jobId: job.id,
    action,
    decisionId,
    by: caller.username,
    status: answer.status,
    message: answer.message,
  });
  return answer;
};
