import { describe, expect, it } from 'vitest';
import {
  EgressAllowList,
  addressVerdict,
  egressRules,
  hostVerdict,
  parseEgressRule,
  urlVerdict,
  type EgressPolicy,
} from './egress.js';

const none: EgressPolicy = { allow: [], platform: [] };
const refusal = (v: ReturnType<typeof urlVerdict>) => (v.allowed ? 'allowed' : v.refusal);

describe('the egress policy before any DNS (planning time)', () => {
  it('refuses schemes other than http and https', () => {
    for (const url of ['file:///etc/passwd', 'ftp://example.org/', 'gopher://example.org/', 'dict://127.0.0.1:11211/'])
      expect(refusal(urlVerdict(url)), url).toBe('scheme');
    expect(refusal(urlVerdict('not a url'))).toBe('invalid');
  });

  it('refuses loopback in every spelling', () => {
    for (const url of [
      'http://127.0.0.1/',
      'http://127.9.9.9:8080/',
      'http://2130706433/',
      'http://0x7f.1/',
      'http://0x7f000001/',
      'http://0177.0.0.1/',
      'http://127.1/',
      'http://[::1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://[::ffff:7f00:1]/',
      'http://[0:0:0:0:0:ffff:127.0.0.1]/',
      'http://localhost:3005/',
      'http://LOCALHOST./',
      'http://app.localhost/',
    ]) {
      expect(refusal(urlVerdict(url)), url).toBe('loopback');
    }
    expect(refusal(urlVerdict('http://0.0.0.0:7233/'))).toBe('unspecified');
    expect(refusal(urlVerdict('http://0/'))).toBe('unspecified');
  });

  it('refuses link-local addresses and cloud metadata by address or name, and lets private networks through', () => {
    expect(refusal(urlVerdict('http://169.254.10.10/'))).toBe('link-local');
    expect(refusal(urlVerdict('http://[fe80::1]/'))).toBe('link-local');
    expect(urlVerdict('http://10.0.0.5/')).toEqual({ allowed: true, why: 'private' });
    expect(urlVerdict('http://[fd12:3456::1]/')).toEqual({ allowed: true, why: 'private' });
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'http://2852039166/',
      'http://0xa9.0xfe.0xa9.0xfe/',
      'http://[::ffff:169.254.169.254]/',
      'http://[fd00:ec2::254]/',
      'http://100.100.100.200/',
      'http://169.254.170.2/v2/credentials',
      'http://metadata.google.internal/computeMetadata/v1/',
      'http://METADATA.google.internal./',
      'http://metadata/',
    ]) {
      expect(refusal(urlVerdict(url)), url).toBe('metadata');
    }
  });

  it('lets public addresses through and leaves other names to connect time', () => {
    expect(urlVerdict('https://93.184.215.14/')).toEqual({ allowed: true, why: 'public' });
    expect(urlVerdict('https://status.example.org/health')).toEqual({ allowed: true, why: 'resolve' });
    expect(refusal(urlVerdict('http://host.123/'))).toBe('invalid');
  });

  it('allows a tenant destination by address, range or name, on its port only when it names one', () => {
    const policy: EgressPolicy = {
      allow: egressRules([
        '127.0.0.1:8080',
        '10.0.0.0/8:443',
        'app.internal',
        '[::1]:9000',
        '169.254.0.0/16',
        '127.0.0.5:80',
      ]),
      platform: [],
    };
    expect(urlVerdict('http://127.0.0.1:8080/x', policy)).toEqual({
      allowed: true,
      why: 'allowed',
      rule: '127.0.0.1:8080',
    });
    expect(refusal(urlVerdict('http://127.0.0.1:8081/', policy))).toBe('loopback');
    expect(refusal(urlVerdict('http://2130706433:8080/', policy))).toBe('allowed');
    expect(refusal(urlVerdict('https://10.20.30.40/', policy))).toBe('allowed');
    expect(refusal(urlVerdict('http://10.20.30.40/', policy))).toBe('allowed');
    expect(refusal(urlVerdict('http://[::1]:9000/', policy))).toBe('allowed');
    expect(refusal(urlVerdict('http://169.254.9.9/', policy))).toBe('allowed');
    // A range that holds a metadata address never opens it.
    expect(refusal(urlVerdict('http://169.254.169.254/', policy))).toBe('metadata');
    // A name is judged by its addresses at connect time.
    expect(addressVerdict({ host: 'App.Internal', address: '169.254.9.10', port: 80 }, policy)).toEqual({
      allowed: true,
      why: 'allowed',
      rule: 'app.internal',
    });
    expect(addressVerdict({ host: 'other.internal', address: '169.253.9.9', port: 80 }, policy).allowed).toBe(true);
    expect(addressVerdict({ host: 'other.internal', address: '127.0.0.9', port: 80 }, policy).allowed).toBe(false);
  });

  it('never lets a tenant reach the platform itself, by name, address or another address of this host', () => {
    const policy: EgressPolicy = {
      allow: egressRules([
        '127.0.0.0/8:7233',
        '127.0.0.0/8:7234',
        '127.0.0.1:8010',
        'temporal:7233',
        '10.0.0.5',
        '[::1]:7233',
      ]),
      platform: egressRules(['127.0.0.1:7233', 'temporal:7233', 'postgresql', '0.0.0.0:8010']),
      localAddresses: ['10.0.0.5'],
    };
    expect(refusal(urlVerdict('http://127.0.0.1:7233/', policy))).toBe('platform');
    expect(refusal(urlVerdict('http://127.0.0.2:7233/', policy))).toBe('platform');
    expect(refusal(urlVerdict('http://[::ffff:127.0.0.1]:7233/', policy))).toBe('platform');
    expect(refusal(urlVerdict('http://[::1]:7233/', policy))).toBe('platform');
    expect(refusal(urlVerdict('http://10.0.0.5:7233/', policy))).toBe('platform');
    expect(refusal(urlVerdict('http://127.0.0.1:8010/health', policy))).toBe('platform');
    expect(refusal(urlVerdict('http://temporal:7233/', policy))).toBe('platform');
    expect(refusal(urlVerdict('http://postgresql:5432/', policy))).toBe('platform');
    expect(refusal(urlVerdict('http://127.0.0.1:7234/', policy))).toBe('allowed');
    expect(addressVerdict({ host: 'db.example.org', address: '127.0.0.1', port: 7233 }, policy).allowed).toBe(false);
  });

  it('opens loopback by port only: a rule without one is refused, and a name allowed whole opens no loopback port', () => {
    for (const text of [
      '127.0.0.1',
      '127.0.0.0/8',
      '0.0.0.0/8',
      '::1',
      '[::1]',
      '::/7',
      'localhost',
      'app.localhost',
    ]) {
      expect(parseEgressRule(text), text).toEqual({ error: expect.stringMatching(/must name its port/) });
    }
    const policy: EgressPolicy = { allow: egressRules(['myapp.internal', '10.0.0.0/8']), platform: [] };
    expect(addressVerdict({ host: 'myapp.internal', address: '127.0.0.1', port: 8080 }, policy)).toMatchObject({
      allowed: false,
      refusal: 'loopback',
    });
    expect(addressVerdict({ host: 'myapp.internal', address: '10.1.1.1', port: 8080 }, policy)).toMatchObject({
      allowed: true,
    });
  });

  it('judges a diagnostic host with no port, and refuses hosts no resolver reads', () => {
    expect(refusal(hostVerdict('2130706433', null, none))).toBe('loopback');
    expect(refusal(hostVerdict('169.254.169.254', null, none))).toBe('metadata');
    expect(hostVerdict('example.org', null, none)).toEqual({ allowed: true, why: 'resolve' });
    expect(refusal(hostVerdict('1.2.3.4.5', null, none))).toBe('invalid');
    // A rule with a port does not open the host to portless traffic.
    expect(refusal(hostVerdict('127.0.0.1', null, { allow: egressRules(['127.0.0.1:80']), platform: [] }))).toBe(
      'loopback',
    );
    expect(refusal(hostVerdict('10.0.0.1', null, { allow: egressRules(['10.0.0.0/8']), platform: [] }))).toBe(
      'allowed',
    );
  });
});

describe('allow-list entries', () => {
  it('parses host[:port], addresses, ranges and bracketed IPv6', () => {
    expect(parseEgressRule('127.0.0.1:8080')).toMatchObject({
      rule: { network: [127, 0, 0, 1], prefix: 32, port: 8080 },
    });
    expect(parseEgressRule('10.0.0.0/8:443')).toMatchObject({ rule: { prefix: 8, port: 443 } });
    expect(parseEgressRule('[::1]:9000')).toMatchObject({ rule: { prefix: 128, port: 9000 } });
    expect(parseEgressRule('[fd00::/8]:443')).toMatchObject({ rule: { prefix: 8, port: 443 } });
    expect(parseEgressRule('fd00::/8')).toMatchObject({ rule: { prefix: 8, port: null } });
    expect(parseEgressRule('App.Internal:8443')).toMatchObject({ rule: { name: 'app.internal', port: 8443 } });
  });

  it('explains what is wrong with a bad entry, and refuses metadata outright', () => {
    const error = (t: string) =>
      'error' in parseEgressRule(t) ? (parseEgressRule(t) as { error: string }).error : 'ok';
    expect(error('127.0.0.1:0')).toMatch(/port/);
    expect(error('127.0.0.1:99999')).toMatch(/port/);
    expect(error('0.0.0.0/0')).toMatch(/prefix/);
    expect(error('0x7f.1')).toMatch(/four decimal numbers/);
    expect(error('169.254.169.254')).toMatch(/metadata/);
    expect(error('[fd00:ec2::254]:80')).toMatch(/metadata/);
    expect(error('metadata.google.internal')).toMatch(/metadata/);
    expect(error('bad host!')).toMatch(/not a host name/);
    expect(error('a/b/c')).toMatch(/host\[:port\]/);
  });

  it('names the field of each bad entry in the API body', () => {
    const parsed = EgressAllowList.safeParse({
      allow: [
        { destination: '127.0.0.1:8080' },
        { destination: '169.254.169.254' },
        { destination: '127.0.0.1:8080' },
        { destination: 'x', note: 'a\u0000b' },
      ],
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path.join('.')).sort()).toEqual([
      'allow.1.destination',
      'allow.2.destination',
      'allow.3.note',
    ]);
  });
});
