/*
 * Quoting for the two shells parameters reach: used by the executor when it builds scripts, and by
 * the tool catalog when a template splices a value into a script.
 */

/**
 * POSIX single-quoting: the value between single quotes, each `'` written as `'\''`. Inside single
 * quotes a POSIX shell interprets nothing, so any string becomes exactly one literal word.
 */
export const shQuote = (value: string): string => {
  if (value.includes('\0')) throw new TypeError('a shell word cannot contain NUL');
  return `'${value.replaceAll("'", `'\\''`)}'`;
};

/** A PowerShell single-quoted string: nothing inside is expanded; a quote is written twice. */
export const psQuote = (value: string): string => {
  if (value.includes('\0')) throw new TypeError('a PowerShell string cannot contain NUL');
  // PowerShell also treats the typographic single quotes as quote characters.
  return `'${value.replace(/['\u2018\u2019\u201A\u201B]/g, (q) => q + q)}'`;
};
