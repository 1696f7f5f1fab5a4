import { ApplicationFailure } from '@temporalio/common';
import { ErrorType, NON_RETRYABLE_ERROR_TYPES } from '@opsc/contracts';
import { UNREACHABLE_CODES } from '../network-errors.js';

/** A classified SSH fault. Its message names the target and never carries a secret. */
export class SshFailure extends Error {
  /** Whether the attempt's record (with its output) is stored already. */
  readonly recorded: boolean;

  constructor(
    readonly type: ErrorType,
    message: string,
    opts: { recorded?: boolean } = {},
  ) {
    super(message);
    this.name = 'SshFailure';
    this.recorded = opts.recorded ?? false;
  }

  toApplicationFailure(): ApplicationFailure {
    return NON_RETRYABLE_ERROR_TYPES.includes(this.type)
      ? ApplicationFailure.nonRetryable(this.message, this.type)
      : ApplicationFailure.retryable(this.message, this.type);
  }
}


/** Sorts an ssh2 connection error into the retry policy's categories. */
export const classifyConnectError = (err: unknown, where: string, user: string, readyTimeoutMs: number): SshFailure => {
  if (err instanceof SshFailure) return err;
  const e = err as Error & { level?: string; code?: string };
  if (e.level === 'client-authentication') return new SshFailure(ErrorType.AuthFailed, `authentication as ${user} to ${where} failed`);
  if (e.level === 'client-timeout') return new SshFailure(ErrorType.Timeout, `no SSH handshake with ${where} within ${readyTimeoutMs / 1000}s`);
  if (e.code && UNREACHABLE_CODES.has(e.code)) return new SshFailure(ErrorType.HostUnreachable, `${where} is unreachable (${e.code})`);
  if (/privateKey/.test(e.message)) {
    return new SshFailure(ErrorType.AuthFailed, `the private key for ${where} could not be read (wrong passphrase or not a private key)`);
  }
  return new SshFailure(ErrorType.ConnectionLost, `connection to ${where} failed: ${e.code ?? e.message}`);
};
