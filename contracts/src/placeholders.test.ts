import { describe, expect, it } from 'vitest';
import { fillFacts, fillTemplate, MissingFact, placeholdersIn, walkStrings } from './placeholders.js';

describe('placeholdersIn', () => {
  it('names each placeholder, its filter, and whether it is the whole string', () => {
    expect(placeholdersIn('{{ count }}')).toEqual([{ name: 'count', filter: null, whole: true }]);
    expect(placeholdersIn('tail -n {{count|sh}} {{ facts.backup | ps }}')).toEqual([
      { name: 'count', filter: 'sh', whole: false },
      { name: 'facts.backup', filter: 'ps', whole: false },
    ]);
    expect(placeholdersIn('{{facts.previous_version}}')).toEqual([
      { name: 'facts.previous_version', filter: null, whole: true },
    ]);
  });

  it('ignores what is not the language: unknown filters, two dots, a leading digit', () => {
    expect(placeholdersIn('{{x|json}} {{a.b.c}} {{1x}} {x}')).toEqual([]);
  });
});

describe('walkStrings', () => {
  it('visits every string with its path', () => {
    const seen: [string, (string | number)[]][] = [];
    walkStrings({ a: 'x', b: ['y', { c: 'z' }], n: 3 }, (text, at) => seen.push([text, at]));
    expect(seen).toEqual([
      ['x', ['a']],
      ['y', ['b', 0]],
      ['z', ['b', 1, 'c']],
    ]);
  });
});

describe('fillTemplate', () => {
  it('keeps the type of a whole placeholder and splices text into longer strings', () => {
    expect(fillTemplate({ n: '{{count}}', line: 'last {{count}} lines' }, { count: 5 })).toEqual({
      n: 5,
      line: 'last 5 lines',
    });
  });

  it('quotes for the shell that reads the value, and |text makes a string', () => {
    expect(fillTemplate('tail {{path|sh}}; Get-Item {{path|ps}}', { path: "it's" })).toBe(
      `tail 'it'\\''s'; Get-Item 'it''s'`,
    );
    expect(fillTemplate('{{count|text}}', { count: 5 })).toBe('5');
    expect(fillTemplate('rm {{files|sh}}', { files: ['a b', 'c'] })).toBe("rm 'a b' 'c'");
    expect(fillTemplate('{{files|ps}}', { files: ['a', 'b'] })).toBe("'a', 'b'");
  });

  it('splices a list into a list, and drops a key whose value is absent', () => {
    expect(
      fillTemplate({ argv: ['{{program}}', '{{args}}'], user: '{{user}}' }, { program: 'ls', args: ['-l', '/tmp'] }),
    ).toEqual({ argv: ['ls', '-l', '/tmp'] });
  });

  it('leaves facts as written, for the run to fill', () => {
    expect(
      fillTemplate({ backup: '{{facts.backup}}', cmd: 'cp {{facts.backup|sh}} {{dest|sh}}' }, { dest: '/x' }),
    ).toEqual({ backup: '{{facts.backup}}', cmd: "cp {{facts.backup|sh}} '/x'" });
  });
});

describe('fillFacts', () => {
  it('fills a whole fact (spaces around it too) with the reported text', () => {
    expect(fillFacts({ path: '{{facts.backup}}', padded: '  {{ facts.backup }}  ' }, { backup: '/var/b 1' })).toEqual({
      path: '/var/b 1',
      padded: '/var/b 1',
    });
  });

  it('quotes facts inside longer strings by their filter and leaves parameters alone', () => {
    expect(
      fillFacts(['cp {{facts.b|sh}} {{dest}}', 'Copy-Item {{facts.b|ps}}', 'v={{facts.b|text}}', '{{facts.b|sh}}'], {
        b: "it's",
      }),
    ).toEqual([`cp 'it'\\''s' {{dest}}`, "Copy-Item 'it''s'", "v=it's", `'it'\\''s'`]);
  });

  it('refuses a fact the step did not report, naming it', () => {
    expect(() => fillFacts({ a: '{{facts.gone}}' }, {})).toThrow(MissingFact);
    expect(() => fillFacts('x {{facts.gone|sh}}', { other: '1' })).toThrow('gone');
  });

  it('passes numbers, booleans and null through', () => {
    expect(fillFacts({ n: 1, b: true, z: null }, {})).toEqual({ n: 1, b: true, z: null });
  });
});
