import { ActivityFailure, ApplicationFailure, CancelledFailure, TimeoutFailure } from '@temporalio/workflow';
import { ErrorType, type FailureDetails } from '@opsc/contracts';

const KNOWN_TYPES = new Set<string>(Object.values(ErrorType));

/** Turns an activity's failure into the `{ type, message }` the job records; anything else is a bug and rethrown. */
export const classifyActivityFailure = (err: unknown): { type: ErrorType; message: string; retried?: true } => {
  if (!(err instanceof ActivityFailure)) throw err;
  const cause = err.cause;
  if (cause instanceof ApplicationFailure && cause.type && KNOWN_TYPES.has(cause.type)) {
    // The failure of a retry: an earlier attempt may have run before it was lost.
    const attempt = (cause.details?.[0] as FailureDetails | undefined)?.attempt;
    return {
      type: cause.type as ErrorType,
      message: cause.message,
      ...(typeof attempt === 'number' && attempt > 1 && { retried: true as const }),
    };
  }
  if (cause instanceof TimeoutFailure) {
    return { type: ErrorType.Timeout, message: 'the executor did not finish or heartbeat in time' };
  }
  if (cause instanceof CancelledFailure) return { type: ErrorType.Cancelled, message: 'cancelled' };
  return { type: ErrorType.Internal, message: cause?.message ?? err.message };
};
