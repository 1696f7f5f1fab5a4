/**
 * Splits PowerShell text into statements (at line ends and `;` outside quotes, braces and
 * parentheses), dropping comments, and remembers where each one starts for error positions.
 */

export interface Statement {
  text: string;
  /** Offset of the statement's first character in the whole script. */
  offset: number;
}

/** Skips a quoted string starting at `i`; returns the index after its closing quote. */
const skipString = (s: string, i: number): number => {
  const quote = s[i];
  for (let j = i + 1; j < s.length; j++) {
    const c = s[j];
    if (quote === '"' && c === '`') j++;
    else if (c === quote) {
      if (s[j + 1] === quote) j++;
      else return j + 1;
    }
  }
  return s.length;
};

export const splitStatements = (script: string, from = 0, to = script.length): Statement[] => {
  const out: Statement[] = [];
  let start = from;
  let depth = 0;
  const flush = (end: number) => {
    const raw = script.slice(start, end);
    const lead = raw.length - raw.trimStart().length;
    const text = raw.trim();
    if (text) out.push({ text, offset: start + lead });
  };
  for (let i = from; i < to; i++) {
    const c = script[i];
    if (c === "'" || c === '"') {
      i = skipString(script, i) - 1;
    } else if (c === '<' && script[i + 1] === '#') {
      const end = script.indexOf('#>', i + 2);
      const stop = end === -1 ? to : end + 2;
      flush(i);
      start = stop;
      i = stop - 1;
    } else if (c === '#' && depth === 0 && (i === from || /[\s;]/.test(script[i - 1] ?? ''))) {
      flush(i);
      while (i < to && script[i] !== '\n') i++;
      start = i + 1;
    } else if (c === '{' || c === '(') depth++;
    else if (c === '}' || c === ')') depth = Math.max(0, depth - 1);
    else if ((c === '\n' || c === ';') && depth === 0) {
      flush(i);
      start = i + 1;
    }
  }
  flush(to);
  return out;
};

/** 1-based line and column of an offset, and that line's text. */
export const positionOf = (script: string, offset: number): { line: number; char: number; text: string } => {
  const before = script.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  const lineEnd = script.indexOf('\n', offset);
  return {
    line: before.split('\n').length,
    char: offset - lineStart + 1,
    text: script.slice(lineStart, lineEnd === -1 ? undefined : lineEnd).replace(/\r$/, ''),
  };
};

/** Splits an argument list at top-level whitespace and commas. */
export const splitArguments = (text: string): string[] => {
  const args: string[] = [];
  let current = '';
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === "'" || c === '"') {
      const end = skipString(text, i);
      current += text.slice(i, end);
      i = end - 1;
    } else if (c === '(' || c === '{') {
      depth++;
      current += c;
    } else if (c === ')' || c === '}') {
      depth--;
      current += c;
    } else if (depth === 0 && (c === ' ' || c === '\t' || c === ',')) {
      if (current) args.push(current);
      current = '';
    } else current += c;
  }
  if (current) args.push(current);
  return args;
};
