import { ActivityFailure, ApplicationFailure, CancelledFailure, TimeoutFailure } from '@temporalio/workflow';
import { ErrorType } from '@opsc/contracts';

const KNOWN_TYPES = new Set<string>(Object.values(ErrorType));

/** Turns an activity's failure into the `{ type, message }` the job records; anything else is a bug and rethrown. */
export const classifyActivityFailure = (err: unknown): { type: ErrorType; message: string } => {
  if (!(err instanceof ActivityFailure)) throw err;
  const cause = err.cause;
  if (cause instanceof ApplicationFailure && cause.type && KNOWN_TYPES.has(cause.type)) {
    return { type: cause.type as ErrorType, message: cause.message };
  }
  if (cause instanceof TimeoutFailure) {
    return { type: ErrorType.Timeout, message: 'the executor did not finish or heartbeat in time' };
  }
  if (cause instanceof CancelledFailure) return { type: ErrorType.Cancelled, message: 'cancelled' };
  return { type: ErrorType.Internal, message: cause?.message ?? err.message };
};
