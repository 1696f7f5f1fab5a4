import type { ErrorRequestHandler } from 'express';
import { ErrorType, type ApiError, type FieldIssue } from '@opsc/contracts';
import type { Logger } from '../log.js';

/** The one table from error type to HTTP status. */
export const HTTP_STATUS: Record<ErrorType, number> = {
  ValidationFailed: 400,
  PlanInvalid: 422,
  NotFound: 404,
  Conflict: 409,
  RateLimited: 429,
  AuthFailed: 401,
  Forbidden: 403,
  CommandNotAllowed: 403,
  EgressDenied: 403,
  Unavailable: 503,
  Timeout: 504,
  HostUnreachable: 502,
  ConnectionLost: 502,
  HostKeyMismatch: 502,
  CommandFailed: 500,
  UnexpectedStatus: 502,
  Cancelled: 409,
  Internal: 500,
};

/** An error the API answers with as it is: its message is safe to show. */
export class ApiFailure extends Error {
  constructor(
    readonly type: ErrorType,
    message: string,
    readonly issues?: FieldIssue[],
  ) {
    super(message);
  }
}

const body = (type: ErrorType, message: string, issues?: FieldIssue[]): ApiError => ({
  error: { type, message, ...(issues && { issues }) },
});

/**
 * Failures raised below the routes that have a safe, fixed answer: the body parser's, and races
 * the routes' own checks can lose (a concurrent insert of the same name, a delete of something
 * still referenced).
 */
const knownFailure = (err: unknown): [number, ErrorType, string] | undefined => {
  const { type, code } = err as { type?: string; code?: string };
  if (type === 'entity.parse.failed') return [400, ErrorType.ValidationFailed, 'request body is not valid JSON'];
  if (type === 'entity.too.large') return [413, ErrorType.ValidationFailed, 'request body is too large'];
  if (code === '23505') return [409, ErrorType.Conflict, 'an object with that name already exists'];
  if (code === '23503') return [409, ErrorType.Conflict, 'it is still in use'];
  return undefined;
};

/** Turns anything thrown in a route into the API's error body; unexpected errors stay opaque. */
export const errorHandler =
  (log: Logger): ErrorRequestHandler =>
  (err: unknown, req, res, _next) => {
    if (err instanceof ApiFailure) {
      res.status(HTTP_STATUS[err.type]).json(body(err.type, err.message, err.issues));
      return;
    }
    const known = knownFailure(err);
    if (known) {
      const [status, type, message] = known;
      res.status(status).json(body(type, message));
      return;
    }
    log.error('unhandled error', { method: req.method, path: req.path, error: (err as Error).message });
    res.status(500).json(body(ErrorType.Internal, 'internal error'));
  };
