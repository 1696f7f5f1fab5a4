import { ApplicationFailure, CancellationScope, proxyActivities, setHandler } from '@temporalio/workflow';
import {
  ErrorType,
  TaskQueue,
  type CarriedJobState,
  type Decision,
  type DecisionAction,
  type JobEvent,
  type JobStatus,
  type OrchestratorActivities,
  type RunJobInput,
} from '@opsc/contracts';
import {
  approveUpdate,
  cancelUpdate,
  decideUpdate,
  pauseUpdate,
  rejectUpdate,
  resumeUpdate,
  type ControlAnswer,
  type DecisionRef,
} from '@opsc/contracts/temporal';
import { BOOKKEEPING } from './bookkeeping.js';
import { markPause } from './job-eta.js';

// The API waits 15 s for an update's answer (UPDATE_TIMEOUT_MS): confirming the decision gets a
// few quick tries within 8 s, then the update fails as unavailable and the caller tries again.
const confirmation = proxyActivities<OrchestratorActivities>({
  taskQueue: TaskQueue.orchestrator,
  startToCloseTimeout: '3s',
  scheduleToCloseTimeout: '8s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '1s' },
});
// A refusal must be on record, like every other bookkeeping write: retried until it lands.
const records = proxyActivities<OrchestratorActivities>(BOOKKEEPING);

const APPROVER_ROLES = new Set<Decision['role']>(['approver', 'admin']);
const OPERATOR_ROLES = new Set<Decision['role']>(['operator', 'approver', 'admin']);

const refuse = (type: ErrorType, message: string): never => {
  throw ApplicationFailure.create({ type, message, nonRetryable: true });
};

/** What the control updates need of a job's run. */
export interface ControlledJob {
  readonly input: RunJobInput;
  readonly data: CarriedJobState;
  log(level: 'info' | 'warn', message: string): void;
  event(
    action: JobEvent['action'],
    actor: { by: string; comment?: string | null; sourceIp?: string | null },
    details?: Record<string, unknown>,
    decisionId?: string,
  ): Promise<void>;
  setStatus(status: JobStatus): Promise<void>;
  /** Cancels the steps in flight (an interrupting cancel). */
  interruptSteps(): void;
  /** Writes the rollback policy into the cancel's log line. */
  readonly rollbackPolicy: string;
}

/** What a decision does once its rules let it: synchronously, so that of two racing decisions one wins. */
interface Effect {
  message: string;
  details?: Record<string, unknown>;
  /** Awaited after the event is on record. */
  after?: () => Promise<void>;
}

/**
 * The six control updates. Each carries only a decision id; the validator refuses at once what the
 * job's state rules out, the handler confirms the decision's record through an activity (who, which
 * role, which plan hash, comment: all from the row the API wrote) and only then checks the rules
 * against it. After the confirmation's await the state is checked again, and the effect applied
 * without a further await: two approvals racing, exactly one wins.
 */
export const installControlHandlers = (job: ControlledJob): void => {
  const { data, input } = job;
  const answer = (message: string): ControlAnswer => ({ status: data.status, message });

  const approvalPending = (): void => {
    if (data.phase !== 'approval' || data.approval.status !== 'pending')
      refuse(ErrorType.Conflict, `the job is not waiting for approval; it is ${data.status}`);
  };
  const pausable = (): void => {
    if (data.phase !== 'running' || data.stop)
      refuse(ErrorType.Conflict, `only a running job can be paused; this one is ${data.status}`);
    if (data.paused) refuse(ErrorType.Conflict, 'the job is already paused');
  };
  const resumable = (): void => {
    if (!data.paused) refuse(ErrorType.Conflict, `the job is not paused; it is ${data.status}`);
  };
  const cancellable = (): void => {
    if (data.cancel) refuse(ErrorType.Conflict, 'the job is already being cancelled');
    if (data.phase !== 'approval' && data.phase !== 'running')
      refuse(ErrorType.Conflict, `the job can no longer be cancelled; it is ${data.status}`);
  };
  const decisionPending = (): void => {
    if (data.decision?.status !== 'pending')
      refuse(ErrorType.Conflict, `the job is not waiting for a decision; it is ${data.status}`);
  };
  const retryAllowed = (d: Decision): void => {
    operator(d);
    const offer = data.decision?.retry;
    if (!offer) refuse(ErrorType.Conflict, 'this question offers continue or roll back only');
    else if (offer.unavailable) refuse(ErrorType.Conflict, `no retry: ${offer.unavailable}`);
    else if (d.retry?.stepId !== offer.stepId || d.retry.rerun !== offer.rerun)
      refuse(
        ErrorType.Conflict,
        `the decision is to run step ${d.retry?.stepId ?? '?'} again (retry ${d.retry?.rerun ?? '?'}); the job asks about step ${offer.stepId}, retry ${offer.rerun}`,
      );
  };
  const operator = (d: Decision): void => {
    if (!OPERATOR_ROLES.has(d.role)) refuse(ErrorType.Forbidden, `this needs the operator role; ${d.by} is ${d.role}`);
  };

  /** A validator: the quick check of what the job's state rules out, before anything is confirmed or recorded. */
  const stateAllows =
    (check: () => void) =>
    (_ref: DecisionRef): void =>
      check();

  /** The decision's record, confirmed and used up; a forged or stale one refuses the update. */
  const confirm = async (action: DecisionAction, args: unknown): Promise<Decision> => {
    const ref = (args !== null && typeof args === 'object' ? args : {}) as Record<string, unknown>;
    // What else the update says is kept for the audit entry of a forgery, and nothing more.
    const claimed = Object.fromEntries(
      Object.entries(ref)
        .filter(([k, v]) => k !== 'decisionId' && ['string', 'number', 'boolean'].includes(typeof v))
        .slice(0, 8)
        .map(([k, v]) => [k.slice(0, 50), String(v).slice(0, 200)]),
    );
    const decisionId = typeof ref.decisionId === 'string' ? ref.decisionId.slice(0, 100) : '';
    const result = await CancellationScope.nonCancellable(() =>
      confirmation.confirmDecision({ decisionId, action, claimed }),
    ).catch(() => null);
    if (result === null)
      return refuse(ErrorType.Unavailable, 'the decision could not be checked against its record; try again');
    if (!result.confirmed) return refuse(result.forged ? ErrorType.Forbidden : ErrorType.Conflict, result.reason);
    return result.decision;
  };

  const decide = async (
    action: DecisionAction & JobEvent['action'],
    args: DecisionRef,
    rules: (d: Decision) => void,
    effect: (d: Decision) => Effect,
  ): Promise<ControlAnswer> => {
    const d = await confirm(action, args);
    try {
      rules(d);
    } catch (err) {
      // Refused by the job's rules: the decision's row and the audit log say so, and why.
      await CancellationScope.nonCancellable(() =>
        records.refuseDecision({ decisionId: d.id, reason: (err as Error).message }),
      );
      throw err;
    }
    const done = effect(d);
    await job.event(action, d, done.details, d.id);
    await done.after?.();
    return answer(done.message);
  };

  setHandler(
    approveUpdate,
    (args) =>
      decide(
        'approve',
        args,
        (d) => {
          approvalPending();
          if (!APPROVER_ROLES.has(d.role))
            refuse(ErrorType.Forbidden, `approving needs the approver role; ${d.by} is ${d.role}`);
          if (data.approval.fourEyes && d.by === input.requestedBy)
            refuse(ErrorType.Forbidden, `four-eyes rule: ${d.by} requested this job and cannot approve it`);
          if (d.planHash !== input.planHash) {
            refuse(
              ErrorType.Conflict,
              `the plan changed: approval names plan ${d.planHash.slice(0, 12)}…, the job runs plan ${input.planHash.slice(0, 12)}…; review it again`,
            );
          }
        },
        (d) => {
          Object.assign(data.approval, {
            status: 'approved',
            decidedBy: d.by,
            decidedAt: new Date().toISOString(),
            ...(d.comment && { comment: d.comment }),
          });
          job.log('info', `Approved by ${d.by}${d.comment ? `: ${d.comment}` : ''}`);
          return { message: 'approved' };
        },
      ),
    { validator: stateAllows(approvalPending) },
  );

  setHandler(
    rejectUpdate,
    (args) =>
      decide(
        'reject',
        args,
        (d) => {
          approvalPending();
          // The requester may withdraw their own job; anyone else needs the approver role.
          if (!APPROVER_ROLES.has(d.role) && d.by !== input.requestedBy)
            refuse(ErrorType.Forbidden, `rejecting needs the approver role; ${d.by} is ${d.role}`);
        },
        (d) => {
          Object.assign(data.approval, {
            status: 'rejected',
            decidedBy: d.by,
            decidedAt: new Date().toISOString(),
            ...(d.comment && { comment: d.comment }),
          });
          job.log('warn', `Rejected by ${d.by}${d.comment ? `: ${d.comment}` : ''}`);
          return { message: 'rejected' };
        },
      ),
    { validator: stateAllows(approvalPending) },
  );

  setHandler(
    pauseUpdate,
    (args) =>
      decide(
        'pause',
        args,
        (d) => {
          operator(d);
          pausable();
        },
        (d) => {
          data.paused = true;
          markPause(data, true, new Date());
          job.log('warn', `Paused by ${d.by}: no new targets start until resumed`);
          return {
            message: 'paused: targets in flight finish, no new ones start',
            after: async () => {
              if (data.status === 'running') await job.setStatus('paused');
            },
          };
        },
      ),
    { validator: stateAllows(pausable) },
  );

  setHandler(
    resumeUpdate,
    (args) =>
      decide(
        'resume',
        args,
        (d) => {
          operator(d);
          resumable();
        },
        (d) => {
          data.paused = false;
          markPause(data, false, new Date());
          job.log('info', `Resumed by ${d.by}`);
          return {
            message: 'resumed',
            after: async () => {
              if (data.status === 'paused') await job.setStatus('running');
            },
          };
        },
      ),
    { validator: stateAllows(resumable) },
  );

  setHandler(
    cancelUpdate,
    (args) =>
      decide(
        'cancel',
        args,
        (d) => {
          operator(d);
          cancellable();
        },
        (d) => {
          const mode = d.mode ?? 'finish';
          data.cancel = { by: d.by, mode };
          data.stop = 'cancel';
          data.paused = false;
          markPause(data, false, new Date());
          job.log(
            'warn',
            `Cancelled by ${d.by}${mode === 'interrupt' ? ', interrupting steps in flight' : ', letting steps in flight finish'}; then: rollback ${job.rollbackPolicy}`,
          );
          if (mode === 'interrupt') job.interruptSteps();
          return { message: 'cancelling', details: { mode } };
        },
      ),
    { validator: stateAllows(cancellable) },
  );

  setHandler(
    decideUpdate,
    (args) =>
      decide(
        'decide',
        args,
        (d) => {
          decisionPending();
          if (d.choice === 'rollback') return operator(d);
          // Running the failed targets of the step again is the approved plan, not a new risk: an operator's call.
          if (d.choice === 'retry') return retryAllowed(d);
          // Going on past failures is a new risk: it takes an approver, and not the requester under four-eyes.
          if (!APPROVER_ROLES.has(d.role))
            refuse(ErrorType.Forbidden, `continuing past failures needs the approver role; ${d.by} is ${d.role}`);
          if (data.approval.fourEyes && d.by === input.requestedBy)
            refuse(ErrorType.Forbidden, `four-eyes rule: ${d.by} requested this job and cannot approve continuing it`);
        },
        (d) => {
          const choice = d.choice ?? 'rollback';
          Object.assign(data.decision ?? {}, {
            status: choice,
            decidedBy: d.by,
            decidedAt: new Date().toISOString(),
            ...(d.comment && { comment: d.comment }),
          });
          const retry = choice === 'retry' ? data.decision?.retry : undefined;
          job.log(
            'warn',
            `${d.by} chose to ${
              retry
                ? `run the ${retry.targets.length} failed target(s) of step ${retry.stepId} again (retry ${retry.rerun})`
                : choice === 'continue'
                  ? 'continue past the failures'
                  : 'roll back every target'
            }`,
          );
          if (retry)
            return {
              message: `retrying ${retry.targets.length} failed target(s)`,
              details: { choice, stepId: retry.stepId, rerun: retry.rerun, targets: retry.targets.slice(0, 100) },
            };
          return { message: choice === 'continue' ? 'continuing' : 'rolling back', details: { choice } };
        },
      ),
    { validator: stateAllows(decisionPending) },
  );
};
