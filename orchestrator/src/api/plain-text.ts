import { z } from 'zod';

/**
 * A name or label that is stored in PostgreSQL as text: `min` to `max` characters and no control
 * characters (PostgreSQL cannot store a NUL, and a line break in a name only ever misleads).
 */
export const PlainText = (max: number, min = 1) =>
  z
    .string()
    .min(min)
    .max(max)
    .regex(/^[^\p{Cc}]*$/u, { message: 'must not contain control characters' });
