import type { Clause } from './spans.js';

/*
 * What the planner could not use is said, never dropped: shell operators outside backticks are not
 * run (the text they join is cut out and named), and a clause no step came from is named too.
 */

/** `&&`, `||`, `|`, `$(`, `>`, `<` outside backticks, with the words they bring, up to "on <targets>" or the clause's end. */
const SHELL_RUN = /(?:&&|\|\||\||\$\(|>>?|<)[^,;\n]*?(?=\s(?:on|against|across|in|at)\s|[,;\n]|\.\s|\.?$)/g;

export interface Cut {
  text: string;
  masked: string;
  notes: string[];
}

/** Cuts shell operators and what they join out of the request (blanked at the same offsets), naming each. */
export const cutShellOperators = (text: string, masked: string, nameOf: (s: string) => string): Cut => {
  let t = text;
  let m = masked;
  const notes: string[] = [];
  for (const hit of masked.matchAll(SHELL_RUN)) {
    const original = text.slice(hit.index, hit.index + hit[0].length).trim();
    const op = /^(?:&&|\|\||\||\$\(|>>?|<)/.exec(original)?.[0] ?? '';
    notes.push(
      `not used: "${nameOf(original)}": shell operators (${op}) outside backticks are never run; to run a command line, put it in backticks as a script`,
    );
    const blank = ' '.repeat(hit[0].length);
    t = `${t.slice(0, hit.index)}${blank}${t.slice(hit.index + hit[0].length)}`;
    m = `${m.slice(0, hit.index)}${blank}${m.slice(hit.index + hit[0].length)}`;
  }
  return { text: t, masked: m, notes };
};

/** Words that carry no step: targets, courtesy, connectives. A clause of only these is not "unused". */
const FILLER = new Set(
  `on in at of to the a an all every each any servers server hosts host machines machine systems system targets target
  nodes node boxes box group groups please connect and for from windows linux across against is are it its reachable
  up now again ok okay thanks thank you can could would will me i want need do following also too both them those these
  there here with via using by over my our your this that as be so just first next finally then`
    .split(/\s+/)
    .filter(Boolean),
);

/** A clause no step came from and that is more than targets and courtesy: named in a note. */
export const unusedClauseNote = (clause: Clause, nameOf: (s: string) => string): string | null => {
  const words = clause.masked
    .replace(/opscinvref\d+/g, ' ')
    .split(/[^A-Za-z]+/)
    .filter((w) => w && !FILLER.has(w.toLowerCase()));
  if (words.length === 0) return null;
  // "rm -rf / on web-server-01": the targets are used, the rest is what was not.
  const text = clause.text.replace(/\s+(?:on|in|against|across)\s+(?:the\s+)?opscinvref\d+.*$/s, '').trim();
  const shell = /(?:^|\s)-{1,2}[A-Za-z]|\/|\\|\$|`/.test(text);
  return `not used: "${nameOf(text)}": ${
    shell
      ? 'it reads like a command outside backticks, which is never run; put a command in backticks to run it'
      : 'no step of mine matches it'
  }`;
};
