import { z } from 'zod';
import { InvalidInput } from '../errors.js';
import type { StepResultCursor } from './job-store.js';

/*
 * A page of results ends with a cursor naming its last row; the caller passes it back as it came
 * (`next.after`) for the next page. Opaque to the caller, checked when it returns.
 */

const Cursor = z.tuple([z.number().int().min(1), z.string(), z.string()]);

export const encodeCursor = (c: StepResultCursor): string => Buffer.from(JSON.stringify(c)).toString('base64url');

export const decodeCursor = (text: string): StepResultCursor => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const c = Cursor.safeParse(parsed);
  if (!c.success)
    throw new InvalidInput('invalid filter', [
      { path: 'query.after', message: 'is not a cursor from an earlier page (pass next.after as it came)' },
    ]);
  return c.data;
};
