import { NUMBER, numberOf } from './numbers.js';
import type { Clause } from './spans.js';

/*
 * Generic commands, waits and power actions: what operators write that no specific tool names.
 * Verbs are read on the masked clause (never inside code, quotes or paths); what they act on is
 * read on the clause's own text at the same offsets.
 */

const UNIT = String.raw`(?:seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h)`;
const DURATION = new RegExp(String.raw`\b(${NUMBER})\s*(${UNIT})\b`, 'i');
const WAIT_VERB = /^(?:and\s+)?(?:then\s+)?(?:wait|pause|sleep|delay|hold on|give\s+(?:it|them)(?:\s+about)?)\b/i;
const AFTER = new RegExp(
  String.raw`\b(?:after|in)\s+(?:another\s+|a further\s+)?(${NUMBER})\s*(${UNIT})\b|\b(${NUMBER})\s*(${UNIT})\s+later\b`,
  'i',
);

const secondsOf = (n: string, unit: string): number => {
  const u = unit.toLowerCase();
  const factor = u.startsWith('h') ? 3_600 : u.startsWith('m') ? 60 : 1;
  return Math.round(numberOf(n) * factor);
};

/** "wait 2 minutes", "pause for 10s": the clause is a wait; null when it is not (or has no duration). */
export const waitClause = (c: Clause): number | null => {
  if (!WAIT_VERB.test(c.masked)) return null;
  const d = DURATION.exec(c.masked);
  return d ? secondsOf(d[1]!, d[2]!) : null;
};

/** "start it again after 30 seconds": the wait before the clause's action, and the clause without it. */
export const waitBefore = (c: Clause): { seconds: number; rest: Clause } | null => {
  const m = AFTER.exec(c.masked);
  if (!m) return null;
  const seconds = secondsOf((m[1] ?? m[3])!, (m[2] ?? m[4])!);
  const cut = (s: string) => `${s.slice(0, m.index)}${s.slice(m.index + m[0].length)}`;
  return { seconds, rest: { text: cut(c.text), masked: cut(c.masked) } };
};

/** Reboot and shutdown of the hosts themselves (a service's stop is not a shutdown). */
export const powerIntent = (c: Clause, namesService: boolean): 'system-reboot' | 'system-shutdown' | null => {
  const m = c.masked;
  if (
    /\breboot\b|\b(?:restart|bounce|power[- ]cycle)\s+(?:the\s+|all\s+|every\s+|each\s+|these\s+|those\s+)?(?:(?:linux|windows)\s+)?(?:servers?|hosts?|machines?|box(?:es)?|computers?|systems?|nodes?|vms?)\b/i.test(
      m,
    )
  )
    return 'system-reboot';
  // "restart win-app-01 (the machine, not a service)"
  if (!namesService && /\brestart\b/i.test(m) && /\bthe\s+(?:machine|server|host|box|computer)\b/i.test(m))
    return 'system-reboot';
  if (/\bshut\s?down\b|\bpower\s+(?:off|down)\b|\bturn\s+off\b/i.test(m) && !namesService) return 'system-shutdown';
  return null;
};

const RUN = /\b(?:run|execute|exec)\s+/i;
/** Words after "run" that are not a program. */
const NOT_PROGRAMS = new Set(
  'the a an this that these those it them on in against across for at with sql query queries script scripts command commands program backup backups check checks diagnostics update updates ping traceroute tracert following and then again'.split(
    ' ',
  ),
);
const ARTICLES = /^(?:(?:the|a|an|this|that)\s+)?(?:(?:command|program|binary|script|executable)\s+)?/i;
const STOP_WORDS = new Set(
  'on in against across for from at to and then now please again everywhere there with as using via'.split(' '),
);
const WORD = /^[A-Za-z0-9_./=:+,%@-]+$/;

/**
 * A program the clause says to run, written without backticks: "run uptime", "execute hostname",
 * "run df -h", "run the script /opt/tools/cleanup.sh". Words up to a preposition are its arguments.
 */
export const programInClause = (c: Clause): { program: string; args: string[] } | null => {
  const run = RUN.exec(c.masked);
  if (!run) return null;
  const from = run.index + run[0].length;
  const lead = ARTICLES.exec(c.masked.slice(from))?.[0].length ?? 0;
  const words = c.text.slice(from + lead).split(/\s+/);
  const program = words[0] ?? '';
  if (!/^(?:\/[A-Za-z0-9._+-]+)+$|^[A-Za-z0-9_][A-Za-z0-9._+-]*$/.test(program)) return null;
  if (NOT_PROGRAMS.has(program.toLowerCase()) || /^opscinvref\d+$/.test(program)) return null;
  const args: string[] = [];
  for (const word of words.slice(1)) {
    if (!word || STOP_WORDS.has(word.toLowerCase()) || !WORD.test(word) || /^opscinvref\d+$/.test(word)) break;
    args.push(word);
  }
  return { program, args };
};

/** A backticked command line, as a program and its arguments, or as a script when it needs a shell. */
export const codeIntent = (
  code: string,
  saysScript: boolean,
): { kind: 'run-script'; script: string } | { kind: 'run-command'; program: string; args: string[] } => {
  if (/[\n;|&$<>(){}]/.test(code) || saysScript) return { kind: 'run-script', script: code };
  const [program = code, ...args] = code.trim().split(/\s+/);
  return { kind: 'run-command', program, args };
};

/** "pause for 45 seconds between stopping and starting W3SVC": stop, wait, start. */
export const waitBetween = (c: Clause): { seconds: number; service: string } | null => {
  const m = new RegExp(
    String.raw`^(?:wait|pause|sleep)\s+(?:for\s+)?(${NUMBER})\s*(${UNIT})\s+between\s+stopping\s+and\s+(?:re)?starting\s+(?:the\s+)?`,
    'i',
  ).exec(c.masked);
  const service = m ? /^[A-Za-z0-9_][A-Za-z0-9@._-]*/.exec(c.text.slice(m[0].length))?.[0] : undefined;
  return m && service ? { seconds: secondsOf(m[1]!, m[2]!), service } : null;
};
