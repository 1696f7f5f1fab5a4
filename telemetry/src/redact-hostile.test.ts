import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from './log.js';
import { REDACTED, clearSecrets, redactFields, registerSecrets } from './redact.js';

// What a careless or hostile caller hands the logger: it must neither stall nor leak.
const linesOf = (fields: Record<string, unknown>): string => {
  const lines: string[] = [];
  createLogger('svc', 'debug', { write: (l) => lines.push(l) }).info('m', fields);
  for (const l of lines) JSON.parse(l);
  return lines.join('');
};

const timed = (fn: () => void): number => {
  const started = performance.now();
  fn();
  return performance.now() - started;
};

afterEach(() => clearSecrets());

describe('the logger under hostile values', () => {
  it('writes a wide object that refers to itself at once, saying where it repeats', () => {
    const wide: Record<string, unknown> = {};
    for (let i = 0; i < 50; i++) wide[`k${i}`] = wide;
    let text = '';
    expect(timed(() => (text = linesOf({ wide })))).toBeLessThan(1_000);
    expect(text).toContain('[cycle]');
  });

  it('bounds the work of a large value, however it is shaped', () => {
    const leaf = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'x'.repeat(100)]));
    const tree = (depth: number): unknown =>
      depth === 0 ? leaf : Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, tree(depth - 1)]));
    const big = tree(3);
    expect(timed(() => linesOf({ big }))).toBeLessThan(1_000);
  });

  it('reads text full of near-misses of secret patterns in linear time', () => {
    const texts = ['a-'.repeat(4096), 'a.'.repeat(4096), 'a_-'.repeat(2730), 'x://'.repeat(2048)];
    expect(timed(() => linesOf({ many: Array.from({ length: 50 }, (_, i) => texts[i % texts.length]) }))).toBeLessThan(
      1_000,
    );
  });

  it('never leaves the head of a secret where a long text is cut', () => {
    const s = `S3cr-${randomBytes(12).toString('hex')}`;
    registerSecrets([s]);
    for (let at = 8_192 - s.length; at <= 8_192; at++) {
      const text = linesOf({ out: `${'a'.repeat(at)}${s}` });
      expect(text, `secret at ${at}`).not.toContain(s.slice(0, 8));
    }
    const password = `pw${randomBytes(10).toString('hex')}`;
    for (let at = 8_192 - 40; at <= 8_192; at += 3) {
      const text = linesOf({ out: `${'a'.repeat(at)} postgres://u:${password}@db/x` });
      expect(text, `URL at ${at}`).not.toContain(password.slice(0, 8));
    }
  });

  it('blanks session ids, pwd and password hashes by their names', () => {
    const out = redactFields({
      sessionId: 'abcdef0123456789',
      session_id: 'abcdef0123456789',
      pwd: 'hunter2hunter2',
      passwordHash: '$argon2id$v=19$m=65536',
      userId: 'u-1',
    });
    expect(out).toEqual({
      sessionId: REDACTED,
      session_id: REDACTED,
      pwd: REDACTED,
      passwordHash: REDACTED,
      userId: 'u-1',
    });
  });

  it('still writes the line when a field cannot be read or written', () => {
    const hostile = {
      ok: 1,
      when: new Date(Number.NaN),
      get broken(): string {
        throw new Error('no');
      },
    };
    expect(JSON.parse(linesOf({ hostile }))).toMatchObject({
      hostile: { ok: 1, when: 'Invalid Date', broken: '[unreadable]' },
    });
  });

  it('never throws: a throwing getter among the fields or an error that cannot say its message', () => {
    class Odd extends Error {
      override get message(): string {
        throw new Error('no message');
      }
    }
    const fields = {
      get broken(): string {
        throw new Error('no');
      },
    };
    const nested = JSON.parse(linesOf({ error: new Odd() })) as Record<string, unknown>;
    expect(nested.error).toBe('[unreadable]');
    const top = JSON.parse(linesOf(fields)) as Record<string, unknown>;
    expect(top).toMatchObject({ msg: 'm', fields: '[unreadable]' });
  });

  it('writes one line, whatever line breaks a value holds (Unicode ones included)', () => {
    const forged = 'x\n\r\u0085\u2028\u2029{"level":"error","msg":"forged"}';
    const text = linesOf({ [forged]: forged, note: forged });
    expect(text.split(/\r\n|[\n\r\u0085\u2028\u2029]/)).toEqual([expect.any(String), '']);
    expect(JSON.parse(text)).toMatchObject({ note: forged });
  });
});
