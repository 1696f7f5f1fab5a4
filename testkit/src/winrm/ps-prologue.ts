/**
 * Reads the prologue of an operation script: `$name = <literal>` statements up to the body marker.
 * A small tokenizer of PowerShell literals, never an evaluator: single-quoted strings (any of the
 * five single-quote characters opens or closes one, and a quote followed by a quote is one literal
 * quote, as PowerShell's tokenizer reads them), integers, `$true`/`$false`/`$null` and `@(...)`
 * arrays of strings. Anything else is refused.
 */

export type PsLiteral = string | number | boolean | null | string[];

export const BODY_MARKER = '# ---- opsc body ----';

export class PrologueError extends Error {}

const QUOTES = new Set(["'", '\u2018', '\u2019', '\u201A', '\u201B']);

class Reader {
  at = 0;
  constructor(readonly text: string) {}

  peek(offset = 0): string {
    return this.text[this.at + offset] ?? '';
  }

  /** Spaces and tabs (not line ends, which end a statement). */
  blanks(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.at++;
  }

  fail(what: string): never {
    const line = this.text.slice(0, this.at).split('\n').length;
    throw new PrologueError(`prologue line ${line}: ${what}`);
  }

  expect(text: string): void {
    if (this.text.slice(this.at, this.at + text.length) !== text) this.fail(`expected ${text}`);
    this.at += text.length;
  }

  name(): string {
    const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.at));
    if (!match) this.fail('expected a variable name');
    this.at += match[0].length;
    return match[0];
  }

  quoted(): string {
    if (!QUOTES.has(this.peek())) this.fail('expected a single-quoted string');
    this.at++;
    let out = '';
    for (;;) {
      const c = this.peek();
      if (c === '') this.fail('unterminated string');
      this.at++;
      if (QUOTES.has(c)) {
        if (!QUOTES.has(this.peek())) return out;
        out += this.peek();
        this.at++;
      } else out += c;
    }
  }

  literal(): PsLiteral {
    const c = this.peek();
    if (QUOTES.has(c)) return this.quoted();
    if (c === '$') {
      this.at++;
      const word = this.name().toLowerCase();
      if (word === 'true') return true;
      if (word === 'false') return false;
      if (word === 'null') return null;
      this.fail(`$${word} is not a literal`);
    }
    if (c === '@') {
      this.expect('@(');
      const items: string[] = [];
      this.spaces();
      while (this.peek() !== ')') {
        if (items.length > 0) {
          this.expect(',');
          this.spaces();
        }
        items.push(this.quoted());
        this.spaces();
      }
      this.at++;
      return items;
    }
    const match = /^-?\d+/.exec(this.text.slice(this.at));
    if (match) {
      this.at += match[0].length;
      const value = Number(match[0]);
      if (!Number.isSafeInteger(value)) this.fail(`integer out of range: ${match[0]}`);
      return value;
    }
    this.fail(`unexpected ${JSON.stringify(c)}`);
  }

  /** Any whitespace, line ends included (inside `@( )`). */
  spaces(): void {
    while (/\s/.test(this.peek())) this.at++;
  }
}

export interface Prologue {
  /** `$name` (without `$`, as written) -> value, in order. */
  variables: Map<string, PsLiteral>;
  /** The prelude set `[Console]::OutputEncoding` to UTF-8. */
  utf8Output: boolean;
}

const OUTPUT_ENCODING = /^\[Console\]::OutputEncoding\s*=\s*\[System\.Text\.Encoding\]::UTF8\b/i;

/** Parses the text before the body marker; statements end at a line end or `;`. */
export const parsePrologue = (text: string): Prologue => {
  const r = new Reader(text);
  const variables = new Map<string, PsLiteral>();
  let utf8Output = false;
  for (;;) {
    r.spaces();
    if (r.peek() === '') return { variables, utf8Output };
    if (r.peek() === '#') {
      while (r.peek() !== '\n' && r.peek() !== '') r.at++;
      continue;
    }
    const encoding = OUTPUT_ENCODING.exec(text.slice(r.at));
    if (encoding) {
      r.at += encoding[0].length;
      utf8Output = true;
    } else {
      r.expect('$');
      const name = r.name();
      r.blanks();
      r.expect('=');
      r.blanks();
      variables.set(name, r.literal());
    }
    r.blanks();
    const end = r.peek();
    if (end === ';' || end === '\n') r.at++;
    else if (end === '\r' && r.peek(1) === '\n') r.at += 2;
    else if (end !== '') r.fail(`unexpected ${JSON.stringify(end)} after the value`);
  }
};

/** Splits an operation script at the body marker line; null when the script has none (a free script). */
export const splitOperationScript = (script: string): { prologue: string; body: string } | null => {
  const lines = script.split('\n');
  const at = lines.findIndex((l) => l.replace(/\r$/, '').trim() === BODY_MARKER);
  if (at === -1) return null;
  return { prologue: lines.slice(0, at).join('\n'), body: lines.slice(at + 1).join('\n') };
};
