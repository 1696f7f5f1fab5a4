import { z } from 'zod';
import { ErrorType } from '../errors.js';

/** The error types as a schema (`ErrorType` holds them as constants). */
export const ApiErrorType = z.enum(Object.values(ErrorType) as [ErrorType, ...ErrorType[]]);

export const FieldIssue = z.object({ path: z.string(), message: z.string() });
export type FieldIssue = z.infer<typeof FieldIssue>;

/** The body of every error answer: its type, a message safe to show, and the fields at fault. */
export const ApiError = z.object({
  error: z.object({ type: ApiErrorType, message: z.string(), issues: z.array(FieldIssue).optional() }),
});
export type ApiError = z.infer<typeof ApiError>;

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
  RecordsUnavailable: 503,
  Timeout: 504,
  HostUnreachable: 502,
  ConnectionLost: 502,
  HostKeyMismatch: 502,
  CommandFailed: 500,
  UnexpectedStatus: 502,
  Cancelled: 409,
  UnsupportedMediaType: 415,
  TooLarge: 413,
  Internal: 500,
  WorkflowClosed: 409,
};
