import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from './log.js';
import { REDACTED, clearSecrets, redactFields, redactText, registerSecrets, secretsOf } from './redact.js';

const secret = () => `S3cr-${randomBytes(12).toString('hex')}`;
const pem = () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

/** Every line a logger writes for `fn`, as one text. */
const linesOf = (fn: (log: ReturnType<typeof createLogger>) => void): string => {
  const lines: string[] = [];
  fn(createLogger('svc', 'debug', { write: (l) => lines.push(l) }));
  for (const l of lines) JSON.parse(l);
  return lines.join('');
};

afterEach(() => clearSecrets());

describe('registered secrets', () => {
  it('are replaced in the message, nested fields, arrays and error messages', () => {
    const a = secret();
    const b = secret();
    registerSecrets([a, b, 'short', undefined]);
    const text = linesOf((log) =>
      log.error(`failed with ${a}`, {
        nested: { deeper: { list: [`x${b}y`, { note: a }] } },
        error: new Error(`connect failed: ${b}`),
      }),
    );
    expect(text).not.toContain(a);
    expect(text).not.toContain(b);
    expect(text).toContain(REDACTED);
    // Too short to register: ordinary words are not blanked.
    expect(redactText('a short word')).toBe('a short word');
  });

  it("cover a PEM's lines and body and a URL's password, as written and decoded", () => {
    const key = pem();
    const password = `p@ss ${secret()}`;
    const url = `postgres://opsc_executor:${encodeURIComponent(password)}@127.0.0.1:5432/db`;
    registerSecrets(secretsOf({ pems: [key], urls: [url, 'not a url', undefined] }));
    const body = key.split('\n').filter((l) => l && !l.startsWith('-----'));
    const text = linesOf((log) => {
      log.info('key line', { line: body[0] });
      log.info(`joined ${body.join('')}`);
      log.info('decoded', { said: `the password is ${password}` });
    });
    for (const part of [...body, body.join(''), password, encodeURIComponent(password)])
      expect(text).not.toContain(part);
  });
});

describe('secret field names', () => {
  it('blank their values at any depth, keeping counts, flags and references (ids, names)', () => {
    const out = redactFields({
      password: 'hunter22',
      nested: { clientSecret: 'abc', Authorization: 'Basic x', apiKey: 'k', private_key: 'pk', cookie: 'c=1' },
      list: [{ token: 'tok' }],
      maxTokens: 1024,
      hasPassword: true,
      username: 'alice',
      tokenId: 'tk-1',
      credentialName: 'web-admin',
    });
    expect(out).toEqual({
      password: REDACTED,
      nested: {
        clientSecret: REDACTED,
        Authorization: REDACTED,
        apiKey: REDACTED,
        private_key: REDACTED,
        cookie: REDACTED,
      },
      list: [{ token: REDACTED }],
      maxTokens: 1024,
      hasPassword: true,
      username: 'alice',
      tokenId: 'tk-1',
      credentialName: 'web-admin',
    });
  });
});

describe('secret-shaped text', () => {
  it.each([
    ['a URL with a password', 'dial https://bob:pa55word-xyz@example.test/x failed', 'pa55word-xyz'],
    ['a postgres URL', 'db postgresql://opsc:zz9-Secret@127.0.0.1/opsc', 'zz9-Secret'],
    ['a Bearer token', 'sent Authorization: Bearer eyJhbGciOi.abc.def', 'eyJhbGciOi.abc.def'],
    ['password=', 'conn host=db password=Tr0ub4dor user=x', 'Tr0ub4dor'],
    ['a JSON password', '{"user":"a","password":"c0rrect-horse"}', 'c0rrect-horse'],
    ['an api_key query', 'GET /x?api_key=AKIA1234567&y=1', 'AKIA1234567'],
  ])('hides %s', (_label, text, hidden) => {
    const out = redactText(text);
    expect(out).not.toContain(hidden);
    expect(out).toContain(REDACTED);
  });

  it('hides a PEM block whole, even one cut short', () => {
    const key = pem();
    const out = redactText(`key:\n${key.trim()}\nafter`);
    expect(out).toBe(`key:\n${REDACTED}\nafter`);
    const cut = redactText(key.slice(0, 60));
    expect(cut).toBe(REDACTED);
  });

  it('keeps a URL without a password and ordinary text as they are', () => {
    for (const text of ['see http://user@host.test/path and https://a.test:8443/x', 'exit code 1 on web-01'])
      expect(redactText(text)).toBe(text);
  });
});

describe('errors', () => {
  it('are logged as name, message and code, never their other properties', () => {
    const err = Object.assign(new Error('request failed'), {
      code: 'ECONNREFUSED',
      config: { headers: { Authorization: 'Bearer zzzzzzzzzz' }, password: 'in-the-config' },
    });
    const text = linesOf((log) => log.warn('call failed', { error: err }));
    const line = JSON.parse(text) as { error: unknown };
    expect(line.error).toEqual({ name: 'Error', message: 'request failed', code: 'ECONNREFUSED' });
    expect(text).not.toContain('in-the-config');
  });
});

describe('bounds', () => {
  it('cuts deep nesting, long arrays, many keys and long strings', () => {
    type Deep = { next?: Deep; v: number };
    let deep: Deep = { v: 0 };
    for (let i = 1; i < 20; i += 1) deep = { next: deep, v: i };
    const out = redactFields({
      deep,
      list: Array.from({ length: 100 }, (_, i) => i),
      wide: Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`k${i}`, i])),
      long: 'y'.repeat(20_000),
      bytes: Buffer.alloc(10),
    });
    expect(JSON.stringify(out)).toContain('[too deep]');
    expect((out.list as unknown[]).length).toBe(51);
    expect((out.list as unknown[])[50]).toBe('[50 more]');
    expect(Object.keys(out.wide as object)).toHaveLength(51);
    expect((out.long as string).length).toBeLessThan(8_300);
    expect(out.bytes).toBe('[10 bytes]');
  });
});
