/**
 * POSIX single-quoting: the value between single quotes, each `'` written as `'\''`. Inside single
 * quotes a POSIX shell interprets nothing, so any string becomes exactly one literal word.
 */
export const shQuote = (value: string): string => {
  if (value.includes('\0')) throw new TypeError('a shell word cannot contain NUL');
  return `'${value.replaceAll("'", `'\\''`)}'`;
};

/** A command line whose every word is quoted. */
export const shJoin = (argv: readonly string[]): string => argv.map(shQuote).join(' ');

/** A pgrep (extended regex) pattern that matches `name` literally. */
export const regexLiteral = (name: string): string => name.replace(/[.+*?^$()[\]{}|\\]/g, '\\$&');
