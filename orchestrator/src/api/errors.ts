import type { ErrorRequestHandler } from 'express';
import { ErrorType, type ApiError, type FieldIssue } from '@opsc/contracts';
import { HTTP_STATUS } from '@opsc/contracts/api';
import { DomainError } from '../errors.js';
import type { Logger } from '@opsc/telemetry';

/**
 * The one table from error type to HTTP status lives in the contract (the OpenAPI document reads it too).
 * A domain error (../errors.ts) or the API's own refusal is answered with its status and
 * `{ error: { type, message, issues? } }`.
 */
export { HTTP_STATUS };

/** A refusal of the API's own (authentication, request shape, start-up): answered like a domain error. */
export class ApiFailure extends DomainError {}

const body = (type: ErrorType, message: string, issues?: FieldIssue[]): ApiError => ({
  error: { type, message, ...(issues && { issues }) },
});

/** What a 4xx raised by the body parser or the router (a broken gzip body, a path that is not percent-encoded UTF-8) is answered with. */
const CLIENT_FAULTS: Record<number, [ErrorType, string]> = {
  400: [
    ErrorType.ValidationFailed,
    'the request could not be read (a body that does not decode, or a URL that is not percent-encoded UTF-8)',
  ],
  413: [ErrorType.ValidationFailed, 'request body is too large'],
  415: [ErrorType.UnsupportedMediaType, 'the request body is not JSON in UTF-8'],
};

/**
 * Failures raised below the routes that have a safe, fixed answer: the body parser's, and races
 * the routes' own checks can lose (a concurrent insert of the same name, a delete of something
 * still referenced).
 */
const knownFailure = (err: unknown): [number, ErrorType, string] | undefined => {
  const { type, code, status, encoding } = err as {
    type?: string;
    code?: string;
    status?: unknown;
    encoding?: unknown;
  };
  if (type === 'entity.parse.failed') return [400, ErrorType.ValidationFailed, 'request body is not valid JSON'];
  if (type === 'entity.too.large') return [413, ErrorType.ValidationFailed, 'request body is too large'];
  if (type === 'charset.unsupported')
    return [
      415,
      ErrorType.UnsupportedMediaType,
      'the charset of the request body is not supported; send JSON in UTF-8',
    ];
  if (type === 'encoding.unsupported')
    return [
      415,
      ErrorType.UnsupportedMediaType,
      `Content-Encoding ${JSON.stringify(String(encoding).slice(0, 50))} is not supported; send identity, gzip, deflate or br`,
    ];
  // pg-pool's own words when no connection came free within DATABASE_POOL_WAIT_SECONDS.
  if ((err as Error).message === 'timeout exceeded when trying to connect')
    return [
      503,
      ErrorType.Unavailable,
      'the database is busy: no connection came free in time (DATABASE_POOL_WAIT_SECONDS); retry in a few seconds',
    ];
  if (code === '23505') return [409, ErrorType.Conflict, 'an object with that name already exists'];
  if (code === '23503') return [409, ErrorType.Conflict, 'it is still in use'];
  // Text PostgreSQL cannot take (NUL, a character its encoding lacks): the edge refuses it first
  // (safe-input.ts), but should anything slip by, a 500 would say the server broke when the input did.
  if (code === '22021' || code === '22P05')
    return [
      400,
      ErrorType.ValidationFailed,
      'the request carries text PostgreSQL cannot store (NUL or a lone surrogate)',
    ];
  if (typeof status === 'number' && CLIENT_FAULTS[status]) return [status, ...CLIENT_FAULTS[status]];
  return undefined;
};

/** Turns anything thrown in a route into the API's error body; unexpected errors stay opaque. */
export const errorHandler =
  (log: Logger): ErrorRequestHandler =>
  (err: unknown, req, res, _next) => {
    if (err instanceof DomainError) {
      res.status(HTTP_STATUS[err.type]).json(body(err.type, err.message, err.issues));
      return;
    }
    const known = knownFailure(err);
    if (known) {
      const [status, type, message] = known;
      if ((err as { code?: string }).code?.startsWith('22'))
        log.warn('PostgreSQL refused a value the edge let through', {
          method: req.method,
          path: req.path,
          error: (err as Error).message,
        });
      res.status(status).json(body(type, message));
      return;
    }
    log.error('unhandled error', { method: req.method, path: req.path, error: (err as Error).message });
    res.status(500).json(body(ErrorType.Internal, 'internal error'));
  };
