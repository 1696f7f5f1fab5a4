import type { TriggerRow } from './trigger-store.js';
import {
  bearerMatches,
  sha256Hex,
  signature,
  signatureMatches,
  timestampProblem,
  triggerKeyId,
  deriveSecret,
} from './trigger-secret.js';

export interface DeliveryHeaders {
  timestamp: string | undefined;
  signature: string | undefined;
  authorization: string | undefined;
}

export type Authenticated = { ok: true; signatureKey: string | null } | { ok: false; reason: string };

// Checked in place of a missing trigger or key, so that the work (and its time) does not tell.
const DUMMY_SECRET = 'opsc_trg_0000000000000000000000000000000000000000000';
const DUMMY_HASH = '0'.repeat(64);

const bearerOf = (header: string | undefined): string | undefined =>
  header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined;

/**
 * Whether a delivery authenticates, and if not why (recorded for the trigger's admins, never told to
 * the sender: an unknown trigger and a bad signature get the same answer). generic: the HMAC of
 * `timestamp.body` under the trigger's secret, the timestamp within the window; alertmanager: the
 * bearer credentials, against their stored SHA-256. Comparisons are constant-time.
 */
export const authenticateDelivery = (
  t: TriggerRow | undefined,
  h: DeliveryHeaders,
  body: Buffer,
  key: Buffer | undefined,
  nowMs: number,
): Authenticated => {
  if (t?.kind === 'alertmanager') {
    const ok = bearerMatches(bearerOf(h.authorization), t.secret_hash ?? DUMMY_HASH);
    return ok ? { ok: true, signatureKey: null } : { ok: false, reason: 'bad bearer credentials' };
  }
  const usable = t !== undefined && key !== undefined && t.secret_salt !== null && t.key_id === triggerKeyId(key);
  const secret = usable ? deriveSecret(key, t.id, t.secret_salt!) : DUMMY_SECRET;
  const timestamp = (h.timestamp ?? '').trim();
  const matches = signatureMatches(h.signature, signature(secret, timestamp, body));
  const late = timestampProblem(h.timestamp, nowMs);
  if (!t) return { ok: false, reason: 'no such trigger' };
  if (!usable) return { ok: false, reason: "the orchestrator's trigger key changed: rotate the trigger's secret" };
  if (!matches) return { ok: false, reason: 'bad signature' };
  if (late) return { ok: false, reason: late };
  return { ok: true, signatureKey: sha256Hex(h.signature!.trim().toLowerCase()) };
};
