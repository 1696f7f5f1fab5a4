import { ErrorType } from '@opsc/contracts';
import { RemoteFailure } from '../remote-failure.js';
import { UNREACHABLE_CODES } from '../network-errors.js';

/** Sorts an ssh2 connection error into the retry policy's categories. */
export const classifyConnectError = (
  err: unknown,
  where: string,
  user: string,
  readyTimeoutMs: number,
): RemoteFailure => {
  if (err instanceof RemoteFailure) return err;
  const e = err as Error & { level?: string; code?: string };
  if (e.level === 'client-authentication')
    return new RemoteFailure(ErrorType.AuthFailed, `authentication as ${user} to ${where} failed`);
  if (e.level === 'client-timeout')
    return new RemoteFailure(ErrorType.Timeout, `no SSH handshake with ${where} within ${readyTimeoutMs / 1000}s`);
  if (e.code && UNREACHABLE_CODES.has(e.code))
    return new RemoteFailure(ErrorType.HostUnreachable, `${where} is unreachable (${e.code})`);
  if (/privateKey/.test(e.message)) {
    return new RemoteFailure(
      ErrorType.AuthFailed,
      `the private key for ${where} could not be read (wrong passphrase or not a private key)`,
    );
  }
  return new RemoteFailure(ErrorType.ConnectionLost, `connection to ${where} failed: ${e.code ?? e.message}`);
};
