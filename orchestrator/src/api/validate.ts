import type { Request } from 'express';
import type { z } from 'zod';
import { ErrorType, toFieldIssues } from '@opsc/contracts';
import { ApiFailure } from './errors.js';

/** Parses a request body with a schema; a bad body is a 400 naming each field. */
export const parseBody = <T>(schema: z.ZodType<T>, req: Request): T => {
  const parsed = schema.safeParse(req.body ?? {});
  if (!parsed.success)
    throw new ApiFailure(ErrorType.ValidationFailed, 'invalid request body', toFieldIssues(parsed.error));
  return parsed.data;
};

/** Parses a query string with a schema; a bad one is a 400 naming each parameter (`query.<name>`), unknown ones too. */
export const parseQuery = <T>(schema: z.ZodType<T>, req: Request): T => {
  const parsed = schema.safeParse(req.query);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.flatMap((i) =>
    i.code === 'unrecognized_keys'
      ? i.keys.map((key) => ({ path: `query.${key}`, message: 'is not a parameter of this endpoint' }))
      : [{ path: `query.${i.path.map(String).join('.')}`, message: i.message }],
  );
  throw new ApiFailure(ErrorType.ValidationFailed, 'invalid filter', issues);
};
