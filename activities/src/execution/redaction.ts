import { secretsOf } from '@opsc/telemetry';

/** Replaces the executor's own secrets in text it stores or returns. */
export type Redactor = (text: string) => string;

export const REDACTED = '[redacted]';
/** Shorter fragments would match ordinary output by chance. */
const MIN_SECRET_LENGTH = 8;

export const noRedaction: Redactor = (text) => text;

/**
 * A redactor for the executor's own secrets. Defence in depth: the sandbox keeps them out of reach;
 * should one still surface in a command's output (a target that echoes it back), it is not kept.
 */
export const createRedactor = (secrets: readonly string[]): Redactor => {
  const needles = [...new Set(secrets.filter((s) => s.length >= MIN_SECRET_LENGTH))].sort(
    (a, b) => b.length - a.length,
  );
  if (needles.length === 0) return noRedaction;
  return (text) => {
    let out = text;
    for (const needle of needles) if (out.includes(needle)) out = out.replaceAll(needle, REDACTED);
    return out;
  };
};

/**
 * What of the vault key and the database URL could show up in output: each PEM whole, each of its
 * base64 lines and its body in one piece; the URL's password as written and decoded.
 */
export const executorSecrets = (input: { vaultPems: readonly string[]; databaseUrl?: string }): string[] =>
  secretsOf({ pems: input.vaultPems, urls: [input.databaseUrl] });
