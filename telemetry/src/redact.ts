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
  /pass(word|wd|phrase)?$|secret|token|authorization|cookie|apikey|privatekey|credential|^pem$|vaultkey|triggerkey|sessionid|signature/;

/** Names of what refers to a secret without being one (`tokenId`, `credentialName`, `secretCount`). */
const REFERENCE_NAME = /(id|ids|name|names|count|kind|type|expiresat|length)$/;

const secretName = (key: string): boolean => {
  const k = key.toLowerCase().replace(/[-_]/g, '');
  return SECRET_NAME.test(k) && !REFERENCE_NAME.test(k);
};

/** Text shapes that carry a secret wherever they appear. */
const PATTERNS: [RegExp, string | ((...m: string[]) => string)][] = [
  // PEM blocks (keys, certificates' keys), whole.
  [/-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(?:-----END [A-Z0-9 ]+-----|$)/g, REDACTED],
  // A URL's password: scheme://user:password@host.
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):[^\s@/]*@/gi, (_m, head) => `${head}:${REDACTED}@`],
  // Authorization schemes.
  [/\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{6,}/g, (_m, scheme) => `${scheme} ${REDACTED}`],
  // key=value and key: value for secret-sounding keys (query strings, connection strings, env dumps).
  [
    /\b([A-Za-z_-]*(?:password|passwd|pwd|secret|token|api[_-]?key)[A-Za-z_-]*)(["']?\s*[=:]\s*["']?)[^\s"'&;,]+/gi,
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

/** A string without registered secrets or secret-shaped text, cut at MAX_STRING. */
export const redactText = (text: string): string => {
  let out = text.length > MAX_STRING ? `${text.slice(0, MAX_STRING)}…[cut]` : text;
  for (const needle of needles) if (out.includes(needle)) out = out.replaceAll(needle, REDACTED);
  for (const [pattern, replacement] of PATTERNS)
    out = out.replace(pattern, replacement as (substring: string, ...args: string[]) => string);
  return out;
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

/** A value safe to log: secrets replaced, secret-named fields blanked, depth and size bounded. */
export const redactValue = (value: unknown, depth = 0): unknown => {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'function' || typeof value === 'symbol') return undefined;
    return value;
  }
  if (value instanceof Error) return errorFields(value);
  if (value instanceof Date) return value.toISOString();
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ITEMS).map((v) => redactValue(v, depth + 1));
    if (value.length > MAX_ITEMS) items.push(`[${value.length - MAX_ITEMS} more]`);
    return items;
  }
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  return redactFields(value as Record<string, unknown>, depth);
};

/** An object's fields, each redacted (by name, then by value). */
export const redactFields = (fields: Record<string, unknown>, depth = 0): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  const keys = Object.keys(fields);
  for (const key of keys.slice(0, MAX_KEYS)) {
    const v = fields[key];
    if (v === undefined) continue;
    // A count or a flag under a secret-sounding name (maxTokens, hasPassword) says nothing secret.
    const plain = v === null || v === '' || typeof v === 'number' || typeof v === 'boolean';
    out[key] = secretName(key) && !plain ? REDACTED : redactValue(v, depth + 1);
  }
  if (keys.length > MAX_KEYS) out['…'] = `${keys.length - MAX_KEYS} more fields`;
  return out;
};
