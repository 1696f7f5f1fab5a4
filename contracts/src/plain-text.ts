import { z } from 'zod';

/**
 * A NUL, or half of a UTF-16 surrogate pair without the other half. PostgreSQL refuses NUL in text
 * and jsonb, and jsonb refuses `\u0000` and an unpaired surrogate escape: a value carrying one can
 * be accepted by a route and then never be written, so it is refused where it comes in.
 */
const UNSTORABLE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const isStorableText = (value: string): boolean => !UNSTORABLE.test(value);

/** Text that PostgreSQL can store as it is (text and jsonb): no NUL, no unpaired surrogate. */
export const StorableText = z
  .string()
  .refine(isStorableText, { message: 'must not contain NUL characters or unpaired UTF-16 surrogates' });

/** The same text with each NUL and unpaired surrogate replaced by U+FFFD: for text that must be kept whatever it holds (an audit entry of a forgery). */
export const toStorableText = (value: string): string => value.replace(new RegExp(UNSTORABLE.source, 'g'), '\uFFFD');
