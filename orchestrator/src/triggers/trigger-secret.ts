import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/*
 * A trigger's secret is the orchestrator's own authentication material, like an API token's hash:
 * it proves a sender may start a template, and it opens nothing else (no target, no credential).
 *
 * - generic: verifying an HMAC needs the secret itself, so it is derived, never stored: the secret is
 *   HMAC-SHA256(trigger key, trigger id + salt), the trigger key coming from the orchestrator's
 *   environment (OPSC_TRIGGER_KEY / OPSC_TRIGGER_KEY_FILE), the salt from the trigger's row (a new
 *   salt is a rotation). A copy of the database alone recovers no secret.
 * - alertmanager: the sender presents the secret as bearer credentials, so only its SHA-256 is kept.
 */

const PREFIX = 'opsc_trg_';
const KEY_ID_LABEL = 'opsc-trigger-key-id';

/** The orchestrator's trigger key: at least 32 bytes of it. */
export const MIN_TRIGGER_KEY_LENGTH = 32;

/** A short, public name of a trigger key: which key derived a trigger's secret. */
export const triggerKeyId = (key: Buffer): string =>
  createHmac('sha256', key).update(KEY_ID_LABEL).digest('hex').slice(0, 16);

export const newSalt = (): string => randomBytes(16).toString('hex');

/** The generic trigger's secret, from the key, its id and its salt. */
export const deriveSecret = (key: Buffer, triggerId: string, salt: string): string =>
  PREFIX + createHmac('sha256', key).update(`opsc-trigger-secret/v1\0${triggerId}\0${salt}`).digest('base64url');

/** An Alertmanager trigger's secret: random, shown once, kept as its SHA-256. */
export const newBearerCredentials = (): string => PREFIX + randomBytes(32).toString('base64url');

export const sha256Hex = (value: string | Buffer): string => createHash('sha256').update(value).digest('hex');

/** `sha256=<hex>` of HMAC-SHA256(secret, timestamp + "." + body): what a generic sender sends. */
export const signature = (secret: string, timestamp: string, body: Buffer): string =>
  `sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')}`;

const SIGNATURE = /^sha256=([0-9a-f]{64})$/;

/** Constant-time comparison of a received signature with the expected one (malformed = no match, same work). */
export const signatureMatches = (received: string | undefined, expected: string): boolean => {
  const want = Buffer.from(SIGNATURE.exec(expected)![1]!, 'hex');
  const m = SIGNATURE.exec((received ?? '').trim().toLowerCase());
  const got = m ? Buffer.from(m[1]!, 'hex') : Buffer.alloc(32);
  return timingSafeEqual(got, want) && m !== null;
};

/** Constant-time comparison of presented bearer credentials with a stored SHA-256. */
export const bearerMatches = (presented: string | undefined, storedHash: string): boolean => {
  const got = Buffer.from(sha256Hex(presented ?? ''), 'hex');
  const want = Buffer.from(/^[0-9a-f]{64}$/.test(storedHash) ? storedHash : '0'.repeat(64), 'hex');
  return timingSafeEqual(got, want) && presented !== undefined && presented !== '';
};

/** The timestamp window: a signed delivery more than this far from now is refused. */
export const TIMESTAMP_TOLERANCE_SECONDS = 300;

/** Why a timestamp header is refused, or null. */
export const timestampProblem = (header: string | undefined, nowMs: number): string | null => {
  if (!header || !/^\d{1,12}$/.test(header.trim())) return 'no timestamp (X-OpsC-Timestamp, Unix seconds)';
  const skew = Math.abs(nowMs / 1000 - Number(header.trim()));
  return skew > TIMESTAMP_TOLERANCE_SECONDS
    ? `the timestamp is ${Math.round(skew)} s from the server's clock (more than ${TIMESTAMP_TOLERANCE_SECONDS} s)`
    : null;
};
