import type { z } from 'zod';
import type { ErrorType } from '../errors.js';
import type { Role } from './common.js';

/** An answer's body: a schema, `null` for none (204), or `events` for the job's Server-Sent Events. */
export type AnswerBody = z.ZodType | null | 'events';

/**
 * One route of the HTTP API. The orchestrator registers exactly these (a test reads its router),
 * and the OpenAPI document and the Markdown reference are generated from them.
 */
export interface ApiRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Express form: `/api/jobs/:id`. */
  path: string;
  /** Who may call it: `public` needs no sign-in; a role means that role or one above it. */
  role: 'public' | Role;
  summary: string;
  body?: z.ZodType;
  /** A body that is not JSON (an upload): its media type and what it is. */
  rawBody?: { mediaType: string; description: string };
  query?: z.ZodObject;
  /** Successful answers by HTTP status. */
  answers: Record<number, AnswerBody>;
  /** Errors this route answers beyond those every route of its kind may (see `errorsOf`). */
  errors?: ErrorType[];
}

/**
 * The errors a route may answer: its own, plus those of its kind: 400 for a body, query or path
 * that does not validate (every route refuses NUL in its path or query), 415 for a body that is not
 * JSON, 401 unless public, 403 when it needs more than viewer, 404 for a path
 * naming something, 503 while the orchestrator starts (all but health and this document).
 */
export const errorsOf = (route: ApiRoute): ErrorType[] => {
  const always = route.path === '/api/health' || route.path === '/api/openapi.json';
  const types: ErrorType[] = [
    'ValidationFailed',
    ...(route.body || route.rawBody ? (['UnsupportedMediaType'] as const) : []),
    ...(route.role === 'public' ? [] : (['AuthFailed'] as const)),
    ...(route.role === 'public' || route.role === 'viewer' ? [] : (['Forbidden'] as const)),
    ...(route.path.includes('/:') ? (['NotFound'] as const) : []),
    ...(route.errors ?? []),
    ...(always ? [] : (['Unavailable'] as const)),
  ];
  return [...new Set(types)];
};
