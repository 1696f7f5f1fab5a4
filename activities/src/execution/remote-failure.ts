import { ApplicationFailure } from '@temporalio/common';
import { NON_RETRYABLE_ERROR_TYPES, type ErrorType } from '@opsc/contracts';

/** A classified fault reaching a target (SSH or WinRM). Its message names the target and never carries a secret. */
export class RemoteFailure extends Error {
  /** Whether the attempt's record (with its output) is stored already. */
  readonly recorded: boolean;
  /** Never retried, whatever its type (a reboot that did not come back: a retry would reboot again). */
  readonly final: boolean;

  constructor(
    readonly type: ErrorType,
    message: string,
    opts: { recorded?: boolean; final?: boolean } = {},
  ) {
    super(message);
    this.name = 'RemoteFailure';
    this.recorded = opts.recorded ?? false;
    this.final = opts.final ?? false;
  }

  toApplicationFailure(): ApplicationFailure {
    return this.final || NON_RETRYABLE_ERROR_TYPES.includes(this.type)
      ? ApplicationFailure.nonRetryable(this.message, this.type)
      : ApplicationFailure.retryable(this.message, this.type);
  }
}
