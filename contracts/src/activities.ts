import type { DatabaseAction, HttpAction, LocalCommandAction, SshAction, WinrmAction } from './plan.js';
import type { CommandOutput, HttpOutput, JobStatus } from './results.js';
import type { TargetRef } from './target.js';
import type { ErrorType } from './errors.js';

/** Who and where an action is for; the executor keys stored output by it. */
export interface ActionContext {
  jobId: string;
  stepId: string;
  target: TargetRef;
  timeoutSeconds: number;
}

export type RunLocalCommandInput = ActionContext & Pick<LocalCommandAction, 'command' | 'args'>;

export type SendHttpRequestInput = ActionContext &
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
  /** Runs a SQL statement on a target's PostgreSQL; rows come back as text, a SQL error is a result with exit code 1. */
  runDatabaseQuery(input: RunDatabaseQueryInput): Promise<CommandOutput>;
}

export interface RecordJobStatusInput {
  jobId: string;
  status: JobStatus;
  error?: { type: ErrorType; message: string };
}

/** Activities on the `orchestrator` task queue: bookkeeping and planning, never execution. */
export interface OrchestratorActivities {
  recordJobStatus(input: RecordJobStatusInput): Promise<void>;
  recordStepResults(input: RecordStepResultsInput): Promise<void>;
}

/** The verdict on one step for one target, without its output (the executor stored that). */
export interface StepVerdict {
  stepId: string;
  target: TargetRef;
  status: 'succeeded' | 'failed' | 'skipped';
  error?: { type: ErrorType; message: string };
}

export interface RecordStepResultsInput {
  jobId: string;
  verdicts: StepVerdict[];
}
