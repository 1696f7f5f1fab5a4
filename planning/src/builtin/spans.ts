/*
 * The operator's literal text (code in backticks, quoted strings, URLs, paths, file names) is data,
 * never a word of the request: "copy build/kill-switch.exe to C:\Tools\delete\app.exe" neither kills
 * nor deletes. The planner reads its verbs on a masked copy of the request in which every such span
 * is blanked character for character, so offsets in the masked text are offsets in the real one.
 *
 * Every pattern here starts only where a word cannot continue to the left, so none backtracks
 * across a long run of text (the planner must stay fast on a hostile 4,000-character request).
 */

/** A fenced block: ```bash\n...\n```. */
export const FENCED = /```[A-Za-z0-9_-]{0,20}\n?([^`]{1,65536}?)\n?```/g;
/** Inline code: `df -h`. */
export const INLINE_CODE = /`([^`\n]{1,2000})`/g;
export const URL = /\bhttps?:\/\/[^\s'"`<>]+/g;
/**
 * `C:\Program Files\App\app.exe`: spaces only inside folders, so "…\app.exe on host" stops at the
 * file; no ":" in a segment, so "C:\Build\app.exe to C:\App\app.exe" is two paths.
 */
const SEGMENT = String.raw`[^\\\s'"\`<>|?*:]+`;
export const WINDOWS_PATH = new RegExp(
  String.raw`(?<![A-Za-z0-9])[A-Za-z]:\\(?:${SEGMENT}(?: ${SEGMENT})*\\)*(?:[^\\\s'"\`<>|?*:,;]*[^\\\s'"\`<>|?*:,;.])?`,
  'g',
);
/** `\\share\builds\app.exe`. */
export const UNC_PATH = new RegExp(
  String.raw`(?<![\\\w])\\\\[A-Za-z0-9._$-]+(?:\\(?:${SEGMENT}(?: ${SEGMENT})*\\)*(?:[^\\\s'"\`<>|?*:,;]*[^\\\s'"\`<>|?*:,;.])?)?`,
  'g',
);
export const POSIX_PATH = /(?<![\w:/.])\/(?:[A-Za-z0-9._+-]+\/?)+/g;
/** `build/app-2.1.exe`, `releases/app.tar.gz`: relative paths that name a file. */
export const RELATIVE_FILE = /(?<![\w./+-])[A-Za-z0-9_+-][A-Za-z0-9._+-]*(?:\/[A-Za-z0-9._+-]+)+/g;
/** `kill-switch.exe`, `nginx.conf`, `example.org`: a word with a dotted suffix that starts with a letter. */
export const DOTTED = /(?<![\w.+-])[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*\.[A-Za-z][A-Za-z0-9_+-]*/g;
const QUOTED = /(?<![A-Za-z0-9])'[^'\n]{1,200}'(?![A-Za-z0-9])|"[^"\n]{1,200}"|‘[^’\n]{1,200}’|“[^”\n]{1,200}”/g;

const ORDER = [FENCED, INLINE_CODE, URL, QUOTED, WINDOWS_PATH, UNC_PATH, POSIX_PATH, RELATIVE_FILE, DOTTED];

/** The request with its literal spans blanked to underscores (one word each), same length. */
export const maskSpans = (text: string): string => {
  let masked = text;
  for (const pattern of ORDER)
    masked = masked.replace(new RegExp(pattern.source, 'g'), (span) => '_'.repeat(span.length));
  return masked;
};

/** A request's part: its own text and the same text masked. */
export interface Clause {
  text: string;
  masked: string;
}

/** Where a request splits into clauses: punctuation, "then", "and" before a verb. Read on the masked text. */
const SPLIT =
  /(?:[;,?!]|:\s|\n+|\.\s+|\.$|\band then\b|\bthen\b|\bafterwards\b|\bafter that\b|\band\s+(?=(?:then\s+)?(?:stop|start|restart|copy|deploy|push|upload|verify|check|confirm|ensure|make sure|update|upgrade|install|back ?up|log|report|record|wait|pause|sleep|run|execute|ping|trace|bounce|bring|replace|reboot|shut|power|count|list|show|give)\b|after\s|\d{1,5}\s*(?:s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?)\s+later\b))\s*/gi;

/** Splits a request into clauses; code, quotes, paths and URLs never split. Code alone joins the clause before it. */
export const clausesOf = (text: string, masked = maskSpans(text)): Clause[] => {
  const ranges: [number, number][] = [];
  let from = 0;
  for (const split of masked.matchAll(SPLIT)) {
    ranges.push([from, split.index]);
    from = split.index + split[0].length;
  }
  ranges.push([from, text.length]);
  const out: [number, number][] = [];
  for (const [a, b] of ranges) {
    const part = text.slice(a, b).trim();
    if (!part) continue;
    // "run this script on Databases: `...`": the code is what the clause before it runs.
    const last = out.at(-1);
    if (last && /^(?:```[\s\S]*```|`[^`]*`)$/.test(part)) last[1] = b;
    else out.push([a, b]);
  }
  return out.map(([a, b]) => {
    const t = text.slice(a, b);
    const lead = t.length - t.trimStart().length;
    const length = t.trim().length;
    return { text: t.slice(lead, lead + length), masked: masked.slice(a + lead, a + lead + length) };
  });
};
