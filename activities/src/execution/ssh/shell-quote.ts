import { shQuote } from '@opsc/contracts';

export { shQuote };

/** A command line whose every word is quoted. */
export const shJoin = (argv: readonly string[]): string => argv.map(shQuote).join(' ');

/** A pgrep (extended regex) pattern that matches `name` literally. */
export const regexLiteral = (name: string): string => name.replace(/[.+*?^$()[\]{}|\\]/g, '\\$&');
