import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import { egressRules } from '@opsc/contracts';
import { createEgressGuard, type ResolvedAddress, type Resolver } from './egress-guard.js';
import { requestAddress } from './guarded-http.js';
import { platformServices } from './platform-services.js';

const scope = { jobId: 'job-1', tenantId: 't-1' };

/** A resolver of made-up names that records what it was asked: no DNS query leaves the machine. */
const fakeDns = (names: Record<string, string[]>) => {
  const asked: string[] = [];
  const resolve: Resolver = async (host) => {
    asked.push(host);
    const addresses = names[host];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return addresses.map((address): ResolvedAddress => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return { resolve, asked };
};

const guardWith = (dns: ReturnType<typeof fakeDns>, allow: string[] = [], platform: string[] = []) =>
  createEgressGuard({
    allowFor: async () => egressRules(allow),
    platform: platformServices(egressRules(platform), dns.resolve),
    resolve: dns.resolve,
    localAddresses: () => ['127.0.0.1', '::1', '192.168.7.20'],
  });

const refusal = async (
  promise: Promise<unknown>,
): Promise<{ type?: string | null; message: string; nonRetryable?: boolean | null }> => {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ApplicationFailure)) throw new Error(`expected a refusal, got ${String(err)}`);
  return { type: err.type, message: err.message, nonRetryable: err.nonRetryable };
};

describe("the executor's connect-time egress guard", () => {
  it('refuses a name that resolves to a cloud metadata address, whatever the tenant allows', async () => {
    const dns = fakeDns({ 'evil.example': ['169.254.169.254'] });
    const guard = guardWith(dns, ['169.254.0.0/16', 'evil.example']);
    expect(await refusal(guard.resolve(scope, 'evil.example', 80))).toMatchObject({
      type: 'EgressDenied',
      nonRetryable: true,
      message: expect.stringMatching(/metadata/),
    });
  });

  it('refuses a name when any of its addresses is refused (a public answer does not launder a loopback one)', async () => {
    const dns = fakeDns({ 'rebind.example': ['93.184.215.14', '127.0.0.1'] });
    expect(await refusal(guardWith(dns).resolve(scope, 'rebind.example', 80))).toMatchObject({
      type: 'EgressDenied',
      message: expect.stringMatching(/rebind\.example:80 \(127\.0\.0\.1\) is a loopback address/),
    });
  });

  it('refuses link-local answers unless the tenant allows them, lets private ones through, and hands back the checked addresses', async () => {
    const dns = fakeDns({ 'db.internal': ['10.0.0.5'], 'router.local': ['fe80::1'] });
    expect(await guardWith(dns).resolve(scope, 'db.internal', 443)).toEqual([{ address: '10.0.0.5', family: 4 }]);
    expect((await refusal(guardWith(dns).resolve(scope, 'router.local', 80))).message).toMatch(/link-local/);
    expect(await guardWith(dns, ['[fe80::1]:80']).resolve(scope, 'router.local', 80)).toEqual([
      { address: 'fe80::1', family: 6 },
    ]);
    expect((await refusal(guardWith(dns, ['[fe80::1]:80']).resolve(scope, 'router.local', 81))).type).toBe(
      'EgressDenied',
    );
  });

  it("refuses the platform's own services under any name that resolves to them, even where the tenant allows loopback", async () => {
    const dns = fakeDns({
      temporal: ['127.0.0.1'],
      'sneaky.example': ['127.0.0.1'],
      'lan-name.example': ['192.168.7.20'],
    });
    const guard = guardWith(
      dns,
      ['127.0.0.0/8:7233', '127.0.0.0/8:8010', '127.0.0.0/8:7000', '192.168.0.0/16'],
      ['temporal:7233', '0.0.0.0:8010'],
    );
    expect((await refusal(guard.resolve(scope, 'sneaky.example', 7233))).message).toMatch(/platform itself/);
    expect((await refusal(guard.resolve(scope, '127.0.0.1', 8010))).message).toMatch(/platform itself/);
    expect((await refusal(guard.resolve(scope, 'lan-name.example', 8010))).message).toMatch(/platform itself/);
    expect(await guard.resolve(scope, 'sneaky.example', 7000)).toEqual([{ address: '127.0.0.1', family: 4 }]);
  });

  it('judges literal addresses without asking DNS, odd spellings included', async () => {
    const dns = fakeDns({});
    const guard = guardWith(dns);
    expect((await refusal(guard.resolve(scope, '2130706433', 80))).message).toMatch(/loopback/);
    expect((await refusal(guard.resolve(scope, '[::ffff:169.254.169.254]', 80))).message).toMatch(/metadata/);
    expect((await refusal(guard.resolve(scope, 'metadata.google.internal', 80))).message).toMatch(/metadata/);
    expect(await guard.resolve(scope, '93.184.215.14', 443)).toEqual([{ address: '93.184.215.14', family: 4 }]);
    expect(dns.asked).toEqual([]);
  });

  it('reports a name that does not resolve as unreachable (retryable), not as refused', async () => {
    expect(await refusal(guardWith(fakeDns({})).resolve(scope, 'nowhere.example', 80))).toMatchObject({
      type: 'HostUnreachable',
      nonRetryable: false,
    });
  });
});

describe('a request to the checked address', () => {
  let allowed: http.Server;
  let other: http.Server;
  let allowedPort: number;
  let otherPort: number;
  const seen: { server: string; host?: string; url?: string }[] = [];

  beforeAll(async () => {
    other = http.createServer((req, res) => {
      seen.push({
        server: 'other',
        ...(req.headers.host && { host: req.headers.host }),
        ...(req.url && { url: req.url }),
      });
      res.end('other');
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    otherPort = (other.address() as AddressInfo).port;
    allowed = http.createServer((req, res) => {
      seen.push({
        server: 'allowed',
        ...(req.headers.host && { host: req.headers.host }),
        ...(req.url && { url: req.url }),
      });
      if (req.url === '/jump') res.writeHead(302, { location: `http://127.0.0.1:${otherPort}/secret` }).end();
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('hello');
    });
    await new Promise<void>((r) => allowed.listen(0, '127.0.0.1', r));
    allowedPort = (allowed.address() as AddressInfo).port;
  });

  afterAll(() => {
    allowed?.close();
    other?.close();
  });

  it("connects to the address the guard judged, sending the URL's name as Host (the name never reaches the system resolver)", async () => {
    const dns = fakeDns({ 'app.test': ['127.0.0.1'] });
    const guard = guardWith(dns, [`127.0.0.1:${allowedPort}`]);
    const url = new URL(`http://app.test:${allowedPort}/status?x=1`);
    const [address] = await guard.resolve(scope, url.hostname, allowedPort);
    const res = await requestAddress({
      url,
      address: address!,
      method: 'GET',
      headers: {},
      signal: AbortSignal.timeout(5_000),
      capBytes: 1024,
    });
    expect([res.status, res.contentType, res.body.text()]).toEqual([200, 'text/plain', 'hello']);
    expect(seen.at(-1)).toEqual({ server: 'allowed', host: `app.test:${allowedPort}`, url: '/status?x=1' });
  });

  it('answers a redirect with its status and does not follow it', async () => {
    const before = seen.filter((s) => s.server === 'other').length;
    const url = new URL(`http://127.0.0.1:${allowedPort}/jump`);
    const res = await requestAddress({
      url,
      address: { address: '127.0.0.1', family: 4 },
      method: 'GET',
      headers: {},
      signal: AbortSignal.timeout(5_000),
      capBytes: 1024,
    });
    expect([res.status, res.location]).toEqual([302, `http://127.0.0.1:${otherPort}/secret`]);
    expect(seen.filter((s) => s.server === 'other').length).toBe(before);
  });
});
