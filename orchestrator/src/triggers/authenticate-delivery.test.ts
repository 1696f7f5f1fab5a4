import { describe, expect, it } from 'vitest';
import { authenticateDelivery } from './authenticate-delivery.js';
import type { TriggerRow } from './trigger-store.js';
import { deriveSecret, sha256Hex, signature, triggerKeyId } from './trigger-secret.js';

const key = Buffer.from('k'.repeat(40));
const now = Date.UTC(2026, 11, 2, 12, 0, 0);
const ts = String(now / 1000);
const body = Buffer.from('{"service":"nginx"}');
const generic = {
  id: '6f1c2a7e-0000-4000-8000-000000000001',
  kind: 'generic',
  secret_salt: 'ab'.repeat(16),
  key_id: triggerKeyId(key),
  secret_hash: null,
} as TriggerRow;
const secret = deriveSecret(key, generic.id, generic.secret_salt!);
const signed = (s = secret, t = ts, b = body) => ({
  timestamp: t,
  signature: signature(s, t, b),
  authorization: undefined,
});

describe('a generic delivery', () => {
  it('authenticates with the HMAC of timestamp.body under the derived secret', () => {
    const h = signed();
    expect(authenticateDelivery(generic, h, body, key, now)).toEqual({
      ok: true,
      signatureKey: sha256Hex(h.signature),
    });
    // Upper-case hex is the same signature (and the same replay key).
    const upper = { ...h, signature: h.signature.toUpperCase().replace('SHA256=', 'sha256=') };
    expect(authenticateDelivery(generic, upper, body, key, now)).toEqual({
      ok: true,
      signatureKey: sha256Hex(h.signature),
    });
  });

  it('is refused for another body, secret, trigger or key, and outside the timestamp window', () => {
    const refused = (t: TriggerRow | undefined, h: ReturnType<typeof signed>, b = body, k = key, at = now) =>
      authenticateDelivery(t, h, b, k, at);
    expect(refused(generic, signed(), Buffer.from('{"service":"cron"}'))).toEqual({
      ok: false,
      reason: 'bad signature',
    });
    expect(refused(generic, signed('opsc_trg_guess'))).toEqual({ ok: false, reason: 'bad signature' });
    expect(refused(generic, { ...signed(), signature: 'sha256=zz' })).toEqual({ ok: false, reason: 'bad signature' });
    expect(refused(generic, { ...signed(), signature: undefined } as never)).toEqual({
      ok: false,
      reason: 'bad signature',
    });
    expect(refused({ ...generic, id: generic.id.replace(/1$/, '2') }, signed())).toEqual({
      ok: false,
      reason: 'bad signature',
    });
    expect(refused(undefined, signed())).toEqual({ ok: false, reason: 'no such trigger' });
    expect(refused(generic, signed(), body, Buffer.from('x'.repeat(40)))).toMatchObject({
      reason: /trigger key changed/,
    });
    expect(refused(generic, signed(), body, key, now + 301_000)).toMatchObject({
      reason: /301 s from the server's clock/,
    });
    const old = String(now / 1000 - 600);
    expect(refused(generic, signed(secret, old))).toMatchObject({ ok: false, reason: /600 s/ });
    expect(refused(generic, { ...signed(), timestamp: undefined } as never)).toMatchObject({ ok: false });
  });
});

describe('an Alertmanager delivery', () => {
  const am = {
    ...generic,
    kind: 'alertmanager',
    secret_salt: null,
    key_id: null,
    secret_hash: sha256Hex('opsc_trg_am'),
  } as TriggerRow;
  const bearer = (authorization?: string) => ({ timestamp: undefined, signature: undefined, authorization });

  it('authenticates with its bearer credentials, and only them', () => {
    expect(authenticateDelivery(am, bearer('Bearer opsc_trg_am'), body, undefined, now)).toEqual({
      ok: true,
      signatureKey: null,
    });
    for (const h of [bearer(), bearer('Bearer '), bearer('Bearer opsc_trg_AM'), bearer('Basic opsc_trg_am'), signed()])
      expect(authenticateDelivery(am, h, body, key, now)).toEqual({ ok: false, reason: 'bad bearer credentials' });
  });
});
