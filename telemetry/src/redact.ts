/** What stands where a secret was. */
export const REDACTED = '[redacted]';

/** Shorter fragments would match ordinary text by chance. */
const MIN_SECRET_LENGTH = 8;
/** Deeper or larger values are cut: a log line is a summary, not a dump. */
const MAX_DEPTH = 6;
const MAX_KEYS = 50;
const MAX_ITEMS = 50;
const MAX_STRING = 8_192;

/** Field names whose values are secrets whatever they hold (compared without case, `-` or `_`). */
const SECRET_NAME =
  /pass(word|wd|phrase)?(hash|digest)?$|pwd$|secret|token|authorization|cookie|apikey|privatekey|credential|^pem$|vaultkey|triggerkey|signature/;

/** Names of what refers to a secret without being one (`tokenId`, `credentialName`, `secretCount`). */
const REFERENCE_NAME = /(id|ids|name|names|count|kind|type|expiresat|length)$/;

/** Secrets whose name reads like a reference: a session id is the bearer secret itself. */
const SECRET_ID = /sessionids?$/;

const secretName = (key: string): boolean => {
  const k = key.toLowerCase().replace(/[-_]/g, '');
  return SECRET_ID.test(k) || (SECRET_NAME.test(k) && !REFERENCE_NAME.test(k));
};

/** Text shapes that carry a secret wherever they appear. */
const PATTERNS: [RegExp, string | ((...m: string[]) => string)][] = [
  // PEM blocks (keys, certificates' keys), whole.
  [/-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(?:-----END [A-Z0-9 ]+-----|$)/g, REDACTED],
  // A URL's password: scheme://user:password@host (the scheme bounded, as below).
  [/([a-z][a-z0-9+.-]{0,31}:\/\/[^\s:/@]*):[^\s@/]*@/gi, (_m, head) => `${head}:${REDACTED}@`],
  // Authorization schemes.
  [/\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{6,}/g, (_m, scheme) => `${scheme} ${REDACTED}`],
  // key=value and key: value for secret-sounding keys (query strings, connection strings, env dumps).
  // The name's parts are bounded (unbounded runs made hostile text like `a-a-a-…` quadratic) and
  // need no word boundary, so a longer name still matches by its last characters.
  [
    /([A-Za-z_-]{0,32}(?:password|passwd|pwd|secret|token|api[_-]?key)[A-Za-z_-]{0,32})(["']?\s*[=:]\s*["']?)[^\s"'&;,]+/gi,
    (_m, key, sep) => `${key}${sep}${REDACTED}`,
  ],
];

const registered = new Set<string>();
let needles: string[] = [];

/**
 * Values this process knows to be secret (a database password, an API key, a vault PEM): they are
 * replaced wherever they appear in a log line. Each service registers what it holds at start.
 */
export const registerSecrets = (secrets: readonly (string | undefined)[]): void => {
  for (const s of secrets) if (s && s.length >= MIN_SECRET_LENGTH) registered.add(s);
  needles = [...registered].sort((a, b) => b.length - a.length);
};

/** For tests: forgets the registered secrets. */
export const clearSecrets = (): void => {
  registered.clear();
  needles = [];
};

/**
 * What of a PEM and a URL could show up in text: each PEM whole, each of its base64 lines and its
 * body in one piece; the URL's password as written and decoded.
 */
export const secretsOf = (input: { pems?: readonly string[]; urls?: readonly (string | undefined)[] }): string[] => {
  const out: string[] = [];
  for (const pem of input.pems ?? []) {
    out.push(pem.trim());
    const body = pem
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('-----'));
    out.push(...body, body.join(''));
  }
  for (const url of input.urls ?? []) {
    if (!url || !URL.canParse(url)) continue;
    const password = new URL(url).password;
    if (!password) continue;
    out.push(password);
    try {
      out.push(decodeURIComponent(password));
    } catch {
      // Not percent-encoded text: the raw form is enough.
    }
  }
  return out;
};

/** Text past this is not even looked at (a secret across this point is dropped with the tail). */
const MAX_SCANNED = 65_536;
/** Budgets of one log line's fields: values visited and characters of text read. */
const MAX_NODES = 2_000;
const MAX_TEXT = 131_072;

/**
 * A string without registered secrets or secret-shaped text, cut at MAX_STRING. It is redacted
 * before it is cut, so a secret across the cut loses no head to the line.
 */
export const redactText = (text: string): string => {
  const scanned = text.length > MAX_SCANNED;
  let out = scanned ? text.slice(0, MAX_SCANNED) : text;
  for (const needle of needles) if (out.includes(needle)) out = out.replaceAll(needle, REDACTED);
  for (const [pattern, replacement] of PATTERNS)
    out = out.replace(pattern, replacement as (substring: string, ...args: string[]) => string);
  // A secret the scan cut in two is whole in no pattern: its head, at the very end, goes too.
  if (scanned) out = out.slice(0, Math.max(0, out.length - Math.max(1_024, needles[0]?.length ?? 0)));
  return out.length > MAX_STRING || scanned ? `${out.slice(0, MAX_STRING)}…[cut]` : out;
};

/**
 * An error as a log field: its name, message and code (each redacted), never the object itself,
 * whose properties may hold a request's config or a connection string.
 */
const errorFields = (err: Error): Record<string, unknown> => {
  const code = (err as { code?: unknown }).code;
  return {
    name: err.name,
    message: redactText(err.message),
    ...((typeof code === 'string' || typeof code === 'number') && { code }),
  };
};

/** One walk over a line's fields: the objects above the current one (cycles) and what is spent. */
interface Walk {
  above: Set<object>;
  nodes: number;
  text: number;
}
const newWalk = (): Walk => ({ above: new Set(), nodes: 0, text: 0 });

const walkValue = (value: unknown, depth: number, walk: Walk): unknown => {
  if (++walk.nodes > MAX_NODES) return '[cut]';
  if (typeof value === 'string') {
    if (walk.text >= MAX_TEXT) return '[cut]';
    walk.text += Math.min(value.length, MAX_SCANNED);
    return redactText(value);
  }
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'function' || typeof value === 'symbol') return undefined;
    return value;
  }
  if (value instanceof Error) {
    try {
      return errorFields(value);
    } catch {
      // Its name or message is a getter that throws.
      return '[unreadable]';
    }
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (walk.above.has(value)) return '[cycle]';
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  walk.above.add(value);
  try {
    if (Array.isArray(value)) {
      const items = value.slice(0, MAX_ITEMS).map((v) => walkValue(v, depth + 1, walk));
      if (value.length > MAX_ITEMS) items.push(`[${value.length - MAX_ITEMS} more]`);
      return items;
    }
    return walkFields(value as Record<string, unknown>, depth, walk);
  } finally {
    walk.above.delete(value);
  }
};

/** A field's value, or what stands for it when reading it throws (a getter, a revoked proxy). */
const read = (fields: Record<string, unknown>, key: string): unknown => {
  try {
    return fields[key];
  } catch {
    return '[unreadable]';
  }
};

const walkFields = (fields: Record<string, unknown>, depth: number, walk: Walk): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  let keys: string[];
  try {
    keys = Object.keys(fields);
  } catch {
    return { '…': '[unreadable]' };
  }
  for (const key of keys.slice(0, MAX_KEYS)) {
    const v = read(fields, key);
    if (v === undefined) continue;
    // A count or a flag under a secret-sounding name (maxTokens, hasPassword) says nothing secret.
    const plain = v === null || v === '' || typeof v === 'number' || typeof v === 'boolean';
    out[key] = secretName(key) && !plain ? REDACTED : walkValue(v, depth + 1, walk);
  }
  if (keys.length > MAX_KEYS) out['…'] = `${keys.length - MAX_KEYS} more fields`;
  return out;
};

/**
 * A value safe to log: secrets replaced, secret-named fields blanked, depth, size and the total
 * work bounded, a value met again inside itself written `[cycle]`.
 */
export const redactValue = (value: unknown): unknown => walkValue(value, 0, newWalk());

/** An object's fields, each redacted (by name, then by value), within one walk's budgets. */
export const redactFields = (fields: Record<string, unknown>): Record<string, unknown> =>
  walkFields(fields, 0, newWalk());
