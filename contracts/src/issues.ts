import type { z } from 'zod';
import type { FieldIssue } from './api/errors.js';

/** Flattens a zod error into `{ path: 'steps.0.action.args.1', message }` items for an API answer. */
export const toFieldIssues = (error: z.ZodError): FieldIssue[] =>
  error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }));
