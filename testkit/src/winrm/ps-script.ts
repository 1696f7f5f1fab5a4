import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { commandNotFound, errorRecordLines } from './clixml.js';
import { ScriptExit, TerminatingError, type ScriptContext } from './ps-context.js';
import { positionOf, splitArguments, splitStatements, type Statement } from './ps-statements.js';

/**
 * The free PowerShell a test runs: output, errors, sleeps, exit codes, a counted ForEach-Object,
 * native programs, and the stdin bootstrap. It is statement-based; whatever it does not know gets
 * PowerShell's own "not recognized" error, so a script never silently does something else.
 */

class NotRecognized extends Error {
  constructor(
    readonly term: string,
    readonly offset: number,
  ) {
    super(term);
  }
}

interface State {
  script: string;
  vars: Map<string, string>;
  errorAction: string;
  underscore?: string;
}

const env = (name: string, ctx: ScriptContext): string => {
  const { hostname, username } = ctx.host.identity;
  const table: Record<string, string> = {
    computername: hostname,
    userdomain: hostname,
    username,
    os: 'Windows_NT',
    systemroot: 'C:\\Windows',
    windir: 'C:\\Windows',
    processor_architecture: 'AMD64',
  };
  return table[name.toLowerCase()] ?? '';
};

const variable = (name: string, state: State, ctx: ScriptContext): string => {
  if (/^env:/i.test(name)) return env(name.slice(4), ctx);
  if (name === '_') return state.underscore ?? '';
  return state.vars.get(name.toLowerCase()) ?? '';
};

/** Expands a double-quoted string's body: backtick escapes, `$name`, `$env:NAME`, `$_`, `$(expr)`. */
const expand = (body: string, state: State, ctx: ScriptContext, offset: number): string => {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c === '`' && i + 1 < body.length) {
      const e = body[++i] as string;
      out += ({ n: '\n', r: '\r', t: '\t', '0': '\0' } as Record<string, string>)[e] ?? e;
    } else if (c === '"' && body[i + 1] === '"') {
      out += '"';
      i++;
    } else if (c === '$' && body[i + 1] === '(') {
      let depth = 0;
      let j = i + 1;
      for (; j < body.length; j++) {
        if (body[j] === '(') depth++;
        if (body[j] === ')' && --depth === 0) break;
      }
      out += evaluate(body.slice(i + 2, j), state, ctx, offset);
      i = j;
    } else if (c === '$' && /[A-Za-z_]/.test(body[i + 1] ?? '')) {
      const name = /^(?:env:)?[A-Za-z0-9_]+/i.exec(body.slice(i + 1))?.[0] ?? '';
      out += variable(name, state, ctx);
      i += name.length;
    } else out += c;
  }
  return out;
};

/** A single-quoted literal's end (the index after its closing quote), or -1. */
const singleQuotedEnd = (text: string): number => {
  for (let i = 1; i < text.length; i++) {
    if (text[i] === "'") {
      if (text[i + 1] === "'") i++;
      else return i + 1;
    }
  }
  return -1;
};

/** Evaluates one expression in argument mode (a bare word is a string, as PowerShell reads it). */
const evaluate = (expr: string, state: State, ctx: ScriptContext, offset: number): string => {
  const text = expr.trim();
  if (text.startsWith("'") && singleQuotedEnd(text) === text.length) return text.slice(1, -1).replace(/''/g, "'");
  if (text.startsWith('"') && text.endsWith('"') && text.length >= 2)
    return expand(text.slice(1, -1), state, ctx, offset);
  if (text.startsWith('(') && text.endsWith(')')) {
    const inner = text.slice(1, -1).trim();
    const end = inner.startsWith("'") ? singleQuotedEnd(inner) : -1;
    const times = end > 0 ? /^\s*\*\s*(\d+)\s*$/.exec(inner.slice(end)) : null;
    if (times?.[1]) return evaluate(inner.slice(0, end), state, ctx, offset).repeat(Number(times[1]));
    return evaluate(inner, state, ctx, offset);
  }
  if (/^\$(?:env:)?[A-Za-z0-9_]+$/i.test(text)) return variable(text.slice(1), state, ctx);
  if (/^-?\d+(\.\d+)?$/.test(text) || /^[^\s$()'"{}[\]|&;@]+$/.test(text)) return text;
  throw new NotRecognized(/^\(?\s*([^\s(){}]+)/.exec(text)?.[1] ?? text, offset);
};

const args = (text: string, state: State, ctx: ScriptContext, offset: number): string[] =>
  splitArguments(text).map((a) => evaluate(a, state, ctx, offset));

const BOOTSTRAP_RUN =
  /^&\s*\(\[ScriptBlock\]::Create\(\[System\.Text\.Encoding\]::UTF8\.GetString\(\[Convert\]::FromBase64String\(\$(\w+)\)\)\)\)$/i;
const FOREACH = /^(-?\d+)\s*\.\.\s*(-?\d+)\s*\|\s*(?:ForEach-Object|foreach|%)\s*\{([\s\S]*)\}$/i;

/** An error record per the preference: Stop terminates, SilentlyContinue drops it, otherwise it is written. */
const fail = (record: string[], state: State, ctx: ScriptContext): false => {
  if (state.errorAction.toLowerCase() === 'stop') throw new TerminatingError(record);
  if (state.errorAction.toLowerCase() !== 'silentlycontinue') ctx.io.errorRecords.push(record);
  return false;
};

const statement = async (st: Statement, state: State, ctx: ScriptContext): Promise<boolean> => {
  const { io } = ctx;
  const t = st.text;
  let m: RegExpExecArray | null;
  if ((m = /^(?:Write-Output|echo|write)(?:\s+([\s\S]*))?$/i.exec(t))) {
    for (const value of args(m[1] ?? '', state, ctx, st.offset)) io.line(value);
    return true;
  }
  if ((m = /^Write-Host(?:\s+([\s\S]*))?$/i.exec(t))) {
    io.line(args(m[1] ?? '', state, ctx, st.offset).join(' '));
    return true;
  }
  if ((m = /^\[Console\]::(Out|Error)\.WriteLine\(([\s\S]*)\)$/i.exec(t))) {
    const text = m[2]?.trim() ? evaluate(m[2], state, ctx, st.offset) : '';
    if (m[1]?.toLowerCase() === 'out') io.line(text);
    else io.errorLine(text);
    return true;
  }
  if ((m = /^Write-Error\s+(?:-Message\s+)?([\s\S]+)$/i.exec(t))) {
    const message = evaluate(m[1] ?? '', state, ctx, st.offset);
    const record = errorRecordLines({
      source: t,
      message,
      category: 'NotSpecified: (:) [Write-Error], WriteErrorException',
      errorId: 'Microsoft.PowerShell.Commands.WriteErrorException',
    });
    return fail(record, state, ctx);
  }
  if ((m = /^(?:Start-Sleep|sleep)\s+(?:-(Seconds|s|Milliseconds|m)\s+)?(\d+(?:\.\d+)?)$/i.exec(t))) {
    const unit = (m[1] ?? 's').toLowerCase();
    await io.sleep(Number(m[2]) * (unit.startsWith('m') ? 1 : 1000));
    return true;
  }
  if ((m = /^exit(?:\s+([\s\S]+))?$/i.exec(t))) {
    const code = Number.parseInt(m[1] ? evaluate(m[1], state, ctx, st.offset) : '0', 10);
    throw new ScriptExit(Number.isNaN(code) ? 0 : code);
  }
  if ((m = FOREACH.exec(t))) {
    const [from, to] = [Number(m[1]), Number(m[2])];
    const body = m[3] ?? '';
    const bodyOffset = st.offset + t.indexOf('{') + 1;
    const inner = splitStatements(state.script, bodyOffset, bodyOffset + body.length);
    let ok = true;
    const step = from <= to ? 1 : -1;
    for (let i = from, n = 0; step > 0 ? i <= to : i >= to; i += step, n++) {
      // Long loops let Receive and Signal in.
      if (n % 500 === 499) await yieldToLoop();
      io.check();
      ok = await runStatements(inner, { ...state, underscore: String(i) }, ctx);
    }
    return ok;
  }
  if (/^\[Console\]::OutputEncoding\s*=\s*\[System\.Text\.Encoding\]::UTF8$/i.test(t)) {
    io.utf8 = true;
    return true;
  }
  if ((m = /^\$([A-Za-z_][A-Za-z0-9_]*)\s*=\s*([\s\S]+)$/.exec(t))) {
    const name = (m[1] ?? '').toLowerCase();
    const read = /^\[Console\]::In\.(ReadToEnd|ReadLine)\(\)$/i.exec(m[2] ?? '')?.[1]?.toLowerCase();
    const value =
      read === 'readtoend'
        ? await io.readToEnd()
        : read === 'readline'
          ? ((await io.readLine()) ?? '')
          : evaluate(m[2] ?? '', state, ctx, st.offset);
    if (name === 'erroractionpreference') state.errorAction = value;
    state.vars.set(name, value);
    return true;
  }
  if ((m = BOOTSTRAP_RUN.exec(t))) {
    const inner = Buffer.from(state.vars.get((m[1] ?? '').toLowerCase()) ?? '', 'base64').toString('utf8');
    return ctx.runScript(inner);
  }
  if (/^(?:'|"|\(|\$|-?\d)/.test(t)) {
    io.line(evaluate(t, state, ctx, st.offset));
    return true;
  }
  // A command: a native program, or nothing PowerShell knows.
  const words = splitArguments(t.replace(/^&\s*/, ''));
  const name = evaluate(words[0] ?? '', state, ctx, st.offset);
  const run = ctx.native(name, args(words.slice(1).join(' '), state, ctx, st.offset));
  if (!run) throw new NotRecognized(name, st.offset + (t.startsWith('&') ? t.indexOf(words[0] ?? '') : 0));
  const code = await run;
  state.vars.set('lastexitcode', String(code));
  return code === 0;
};

/** Runs statements in order; a command PowerShell does not know is an error record, not the end. */
const runStatements = async (statements: readonly Statement[], state: State, ctx: ScriptContext): Promise<boolean> => {
  let ok = true;
  for (const st of statements) {
    try {
      ok = await statement(st, state, ctx);
    } catch (err) {
      if (!(err instanceof NotRecognized)) throw err;
      const where = positionOf(state.script, err.offset);
      ok = fail(commandNotFound(err.term, { ...where, length: err.term.length }), state, ctx);
    }
  }
  return ok;
};

/** Runs a free script; the result says whether its last statement succeeded (PowerShell's exit code 0 or 1). */
export const runFreeScript = (script: string, ctx: ScriptContext): Promise<boolean> =>
  runStatements(splitStatements(script), { script, vars: new Map(), errorAction: 'Continue' }, ctx);
