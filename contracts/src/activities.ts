import type { DatabaseAction, HttpAction, LocalCommandAction, SshAction, WinrmAction } from './plan.js';
import type { CommandOutput, HttpOutput, JobResult, JobStatus } from './results.js';
import type { TargetRef } from './target.js';
import type { ErrorType } from './errors.js';
import type { ConfirmDecisionInput, ConfirmDecisionResult, RefuseDecisionInput } from './decision.js';
import type { NotifyJobInput, RunJobInput } from './workflow-input.js';
import type { NotificationEvent } from './notifications.js';
import type { PlatformTiming } from './eta.js';

/** Who and where an action is for; the executor keys stored output by it. */
export interface ActionContext {
  jobId: string;
  stepId: string;
  target: TargetRef;
  timeoutSeconds: number;
  /**
   * Absent for a step's first run on the target; n for the n-th time an operator chose to run its
   * failed targets again (decide `retry`). A distinct execution: its own run marker and output
   * lines, admitted by the executor only for a retry decision on record.
   */
  rerun?: number;
}

/**
 * Whose egress rules apply: the job's tenant. The executor checks it against the job's record, so
 * an input naming another tenant borrows nothing.
 */
export interface EgressContext {
  tenantId: string;
}

export type RunLocalCommandInput = ActionContext & EgressContext & Pick<LocalCommandAction, 'command' | 'args'>;

export type SendHttpRequestInput = ActionContext &
  EgressContext &
  Pick<HttpAction, 'url' | 'httpMethod' | 'headers' | 'body'>;

/** The target is an inventory target id; the executor looks up its address and credential itself. */
export type RunSshOperationInput = ActionContext & Pick<SshAction, 'operation' | 'become'>;

/** The target is an inventory target id; the executor looks up its WinRM endpoint and credential itself. */
export type RunWinrmOperationInput = ActionContext & Pick<WinrmAction, 'operation'>;

/** The target is an inventory target id; the executor looks up its PostgreSQL service and credential itself. */
export type RunDatabaseQueryInput = ActionContext & Pick<DatabaseAction, 'query' | 'allowWrites' | 'maxRows'>;

/**
 * Activities on the `executor` task queue. The names here ARE the Temporal activity names; the
 * executor's implementation is checked against this interface with `satisfies`.
 */
export interface ExecutorActivities {
  /** Runs a program on the executor host (argv, no shell); a non-zero exit is a result, not an error. */
  runLocalCommand(input: RunLocalCommandInput): Promise<CommandOutput>;
  /** Sends an HTTP request from the executor host; any status is a result, not an error. */
  sendHttpRequest(input: SendHttpRequestInput): Promise<HttpOutput>;
  /** Performs a Linux operation on a target over SSH; a non-zero exit is a result, not an error. */
  runSshOperation(input: RunSshOperationInput): Promise<CommandOutput>;
  /** Performs a Windows operation on a target over WinRM; a non-zero exit is a result, not an error. */
  runWinrmOperation(input: RunWinrmOperationInput): Promise<CommandOutput>;
  /** Runs one SQL statement (several fail, ValidationFailed) on a target's PostgreSQL; rows come back as text, a SQL error is a result with exit code 1. */
  runDatabaseQuery(input: RunDatabaseQueryInput): Promise<CommandOutput>;
  /**
   * Delivers one notification to one channel (opening the channel's secret in the vault), only
   * for a genuine notification workflow: a job's (`notifyJob`, its event true of the job's record)
   * or an admin's test (`notifyTest`, on record). Each (notification, channel) is delivered once.
   */
  deliverNotification(input: DeliverNotificationInput): Promise<NotificationReceipt>;
}

/** One notification for one channel. The executor checks every field against the records. */
export type DeliverNotificationInput =
  | { kind: 'job'; jobId: string; event: NotificationEvent; n: number; channelId: string }
  | { kind: 'test'; testId: string; channelId: string };

export interface NotificationReceipt {
  /** `duplicate`: delivered before (a retry after a lost answer, or a second workflow); not sent again. */
  status: 'delivered' | 'duplicate';
  eventId: string;
}

export interface RecordJobStatusInput {
  jobId: string;
  status: JobStatus;
  error?: { type: ErrorType; message: string };
  /** The finished job's counts, with its final status. */
  outcome?: Omit<JobResult, 'jobId' | 'status'>;
}

/** Something a person did to a job, or the workflow did for them (a timeout), for the job record and the audit log. */
export interface JobEvent {
  jobId: string;
  /** Unique per job; a retried activity records the event once. */
  key: string;
  action:
    | 'approve'
    | 'reject'
    | 'approval-timeout'
    | 'decide'
    | 'decision-timeout'
    | 'pause'
    | 'resume'
    | 'cancel'
    | 'compensation-failed';
  actor: string;
  at: string;
  planHash: string;
  comment?: string;
  sourceIp?: string;
  /** Names and counts only, never a secret. */
  details?: Record<string, unknown>;
  /** The confirmed decision this event applies: its row is marked applied in the same statement. */
  decisionId?: string;
}

/** What a job's first run was started with, to be checked against the job's record. */
export type ConfirmJobInput = Pick<
  RunJobInput,
  'jobId' | 'tenantId' | 'plan' | 'planHash' | 'risk' | 'requestedBy' | 'targets' | 'stepTargets' | 'resume' | 'mode'
> & {
  approval: Pick<RunJobInput['approval'], 'required' | 'fourEyes'>;
};

/** What one step is expected to take per target, looked up for the ETA. */
export interface StepEstimateRequest {
  stepId: string;
  /** The tool (or method and operation) the step runs, as durations are recorded under. */
  toolKey: string;
  /** The tool's own estimate, used where no earlier run exists. */
  fallbackSeconds: number | null;
}
export interface StepEstimate {
  stepId: string;
  /** Mean seconds of one target's run. */
  seconds: number | null;
  /** Seconds of the slow end (95th percentile over the targets): a wave of targets lasts this long. */
  tailSeconds: number | null;
  from: 'history' | 'tool' | 'none';
  /** Targets with earlier runs behind the figure. */
  samples: number;
  /** Targets of the step (absent from older orchestrators, as are the fields below). */
  targets?: number;
  /** `history` from the tool's runs on other targets only: none on these. */
  otherTargets?: boolean;
  /** `history`: the mean width (targets at once) the runs behind it ran at. */
  width?: number;
  /** What the platform adds beyond the targets' runs, learned from the tenant's recent jobs (the same on each step). */
  platform?: PlatformTiming;
}

/** Activities on the `orchestrator` task queue (orchestrator/src/bookkeeping): the job's record and its checks, never planning or execution. */
export interface OrchestratorActivities {
  recordJobStatus(input: RecordJobStatusInput): Promise<void>;
  recordStepResults(input: RecordStepResultsInput): Promise<void>;
  recordJobEvent(input: JobEvent): Promise<void>;
  /**
   * Confirms and uses up the decision the API recorded for this activity's job (its workflow id)
   * and action: the only way a workflow learns who decided what. Audits a forgery.
   */
  confirmDecision(input: ConfirmDecisionInput): Promise<ConfirmDecisionResult>;
  /** Marks a confirmed decision refused by the job's rules, with the reason, and audits it. */
  refuseDecision(input: RefuseDecisionInput): Promise<void>;
  /**
   * Checks, before the first run does anything, that the job this workflow (its id) runs is the one
   * the API recorded and has not started: same plan (by hash), tenant, requester and targets, and an
   * approval at least as strict. A workflow started straight in Temporal fails here, audited.
   */
  confirmJob(input: ConfirmJobInput): Promise<void>;
  /** Mean duration of each step's tool on the job's targets in earlier jobs of the tenant, else the tool's estimate. */
  estimateSteps(input: { jobId: string; steps: StepEstimateRequest[] }): Promise<StepEstimate[]>;
  /**
   * Starts the `notifyJob` workflow of a job's event (id `notify-<jobId>-<event>-<n>`) and returns once
   * it has started; a second start of the same id is a no-op. Scheduled by the job's own workflow only.
   */
  startNotification(input: NotifyJobInput): Promise<void>;
  /** The channels (ids) subscribed to a job's event: the tenant's, or its template's override. */
  notificationChannels(input: { jobId: string; event: NotificationEvent }): Promise<string[]>;
}

/** The verdict on one step for one target, without its output (the executor stored that). */
export interface StepVerdict {
  /** The step's id, or `<id>.rollback` for the compensation of that step. */
  stepId: string;
  /** Durations are kept per tool key, for later ETAs. */
  toolKey?: string;
  /** From scheduling to the verdict, as the workflow saw it (retries included). */
  durationMs?: number;
  target: TargetRef;
  status: 'succeeded' | 'failed' | 'skipped';
  error?: { type: ErrorType; message: string };
  /** Which run of the step this verdict is on (decide `retry`); absent for its first run. */
  rerun?: number;
}

export interface RecordStepResultsInput {
  jobId: string;
  verdicts: StepVerdict[];
}
