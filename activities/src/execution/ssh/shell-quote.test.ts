import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shJoin, shQuote } from './shell-quote.js';

const echoThroughShell = (words: string[]): string[] =>
  JSON.parse(
    execFileSync('sh', ['-c', `node -e 'console.log(JSON.stringify(process.argv.slice(1)))' ${shJoin(words)}`], {
      encoding: 'utf8',
    }),
  ) as string[];

describe('shQuote', () => {
  it('delivers hostile strings to the program as single, literal arguments', () => {
    const words = [
      `it's`,
      '$(touch /tmp/pwned)',
      '`id`',
      'a b\tc',
      '; rm -rf / #',
      "''",
      '\\',
      '*',
      '-rf',
      'line\nbreak',
      '',
    ];
    expect(echoThroughShell(words)).toEqual(words);
  });

  it('refuses NUL, which no shell word can carry', () => {
    expect(() => shQuote('a\0b')).toThrow(/NUL/);
  });
});
