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

/**
 * What has no place in one line of display text: control characters (C0 and C1, line breaks among
 * them), the Unicode line and paragraph separators, and the bidirectional overrides and isolates that
 * make text read in another order than it is stored.
 */
const NOT_PLAIN_LINE = /[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069\u115F\u1160\u3164\uFFA0]/u;

/**
 * What one line of display text must not hide: every other format character (category Cf) but the
 * zero-width joiner that emoji sequences need. They show as nothing, yet the bidi marks (LRM, RLM,
 * ALM) reorder the text around them, zero-width spaces and joiners split words unseen, and tag
 * characters carry a whole hidden ASCII text: a title a person reads would not be the one stored.
 * The Hangul fillers of `NOT_PLAIN_LINE` look like blanks and become spaces.
 */
const INVISIBLE = /(?!\u200D)\p{Cf}/u;

/**
 * More combining marks in a row than any script puts on one letter: such a stack draws far above and
 * below its line, over the page's other text and buttons.
 */
const STACKED = /\p{M}{5,}/u;

/** One line of plain display text: storable, without controls, line breaks, bidirectional overrides, invisible characters or stacked marks. */
export const isPlainLine = (value: string): boolean =>
  isStorableText(value) && !NOT_PLAIN_LINE.test(value) && !INVISIBLE.test(value) && !STACKED.test(value);

/** A bounded line of plain text, trimmed, never empty: for what is shown and never acted on (a title). */
export const PlainLine = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine(isPlainLine, { message: 'must be one line of plain text (no control characters or line breaks)' });

/**
 * Any text made one line of plain text of at most `max` characters: each control, separator,
 * override, filler, NUL or unpaired surrogate becomes a space, each invisible character is dropped, a stack of marks cut to four, runs of white space one space, and a longer
 * text is cut at a whole character with "…" (lengths in UTF-16 units, as schemas count). Empty when nothing printable is left.
 */
export const toPlainLine = (value: string, max: number): string => {
  const flat = value
    .replace(new RegExp(`${NOT_PLAIN_LINE.source}|${UNSTORABLE.source}`, 'gu'), ' ')
    .replace(new RegExp(INVISIBLE.source, 'gu'), '')
    .replace(/(\p{M}{4})\p{M}+/gu, '$1')
    .replace(/\s+/g, ' ')
    .trim();
  if (flat.length <= max) return flat;
  // Cut at a whole character (never half a surrogate pair), within `max` UTF-16 units with the "…".
  let cut = '';
  for (const char of flat) {
    if (cut.length + char.length > max - 1) break;
    cut += char;
  }
  return `${cut.trimEnd()}…`;
};
