/**
 * Failure categories shared by activities, workflows and the API. Activities throw
 * `ApplicationFailure` with one of these as `type`; workflows branch on it; the API maps it to
 * an HTTP status. Messages must never contain secrets: they land in workflow history.
 */
export const ErrorType = {
  AuthFailed: 'AuthFailed',
  /** Authenticated, but the role does not allow it. */
  Forbidden: 'Forbidden',
  HostKeyMismatch: 'HostKeyMismatch',
  HostUnreachable: 'HostUnreachable',
  ConnectionLost: 'ConnectionLost',
  Timeout: 'Timeout',
  Cancelled: 'Cancelled',
  CommandFailed: 'CommandFailed',
  CommandNotAllowed: 'CommandNotAllowed',
  /** The egress policy refused a step's destination (loopback, metadata, the platform itself, ...). */
  EgressDenied: 'EgressDenied',
  UnexpectedStatus: 'UnexpectedStatus',
  PlanInvalid: 'PlanInvalid',
  ValidationFailed: 'ValidationFailed',
  NotFound: 'NotFound',
  Conflict: 'Conflict',
  Unavailable: 'Unavailable',
  /**
   * The executor could not read the records it needs to start an action (its database is
   * unreachable): nothing ran. The workflow waits and asks again; an outage delays a job, it
   * never fails a step or skips an undo.
   */
  RecordsUnavailable: 'RecordsUnavailable',
  /** The request body is not JSON in UTF-8 (415). */
  UnsupportedMediaType: 'UnsupportedMediaType',
  /** The request body is larger than the route takes (413); the message names the limit. */
  TooLarge: 'TooLarge',
  /** Too many at once or too often (live event streams, sign-in lockout, a source's failure budget, hashing at capacity); retry later (429). */
  RateLimited: 'RateLimited',
  Internal: 'Internal',
  /**
   * A job's workflow was closed from outside (terminated, timed out, cancelled, failed) or is gone
   * before it recorded how the job ended; the orchestrator's reconciliation recorded it.
   */
  WorkflowClosed: 'WorkflowClosed',
} as const;
export type ErrorType = (typeof ErrorType)[keyof typeof ErrorType];

/**
 * The details an executor's failure may carry (ApplicationFailure details[0]). `attempt` is set on
 * the failure of a retry: an earlier attempt may have changed the target before it was lost.
 */
export interface FailureDetails {
  attempt?: number;
}

/** Error types an activity retry cannot cure; the workflow's retry policy stops on these at once. */
export const NON_RETRYABLE_ERROR_TYPES: readonly ErrorType[] = [
  ErrorType.AuthFailed,
  ErrorType.HostKeyMismatch,
  ErrorType.CommandNotAllowed,
  ErrorType.EgressDenied,
  ErrorType.PlanInvalid,
  ErrorType.ValidationFailed,
];
