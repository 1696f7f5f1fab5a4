import type { Request } from 'express';
import type { z } from 'zod';
import { ErrorType, toFieldIssues } from '@opsc/contracts';
import { ApiFailure } from './errors.js';

/** Parses a request body with a schema; a bad body is a 400 naming each field. */
export const parseBody = <T>(schema: z.ZodType<T>, req: Request): T => {
  const parsed = schema.safeParse(req.body ?? {});
  if (!parsed.success) throw new ApiFailure(ErrorType.ValidationFailed, 'invalid request body', toFieldIssues(parsed.error));
  return parsed.data;
};
