import { describe, expect, it } from 'vitest';
import { SourceLimiter, sourceKey } from './source-limiter.js';

describe('sourceKey', () => {
  it('keys IPv4 by address and IPv6 by its /64', () => {
    expect(sourceKey('203.0.113.7')).toBe('203.0.113.7');
    expect(sourceKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(sourceKey('2001:db8:0:1::1')).toBe('2001:db8:0:1::/64');
    expect(sourceKey('2001:DB8:0:1:ffff:ffff:ffff:ffff')).toBe('2001:db8:0:1::/64');
    expect(sourceKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(sourceKey('::1')).toBe('0:0:0:0::/64');
    expect(sourceKey(undefined)).toBe('unknown');
  });
});

describe('SourceLimiter', () => {
  const clock = () => {
    let t = 0;
    return { now: () => t, advance: (ms: number) => (t += ms) };
  };

  it('lets a source fail maxFailures times, then refuses it with the time until its next attempt', () => {
    const c = clock();
    const limiter = new SourceLimiter({ maxFailures: 3, windowSeconds: 60, now: c.now });
    for (let i = 0; i < 3; i++) expect(limiter.take('a')).toEqual({ ok: true });
    expect(limiter.take('a')).toEqual({ ok: false, retryAfterSeconds: 20 });
    expect(limiter.take('b')).toEqual({ ok: true });
    c.advance(19_000);
    expect(limiter.take('a')).toEqual({ ok: false, retryAfterSeconds: 1 });
    c.advance(1_000);
    expect(limiter.take('a')).toEqual({ ok: true });
  });

  it('spends nothing on attempts that are given back (successes, or attempts never tried)', () => {
    const limiter = new SourceLimiter({ maxFailures: 2, windowSeconds: 60, now: () => 0 });
    for (let i = 0; i < 10; i++) {
      expect(limiter.take('a').ok).toBe(true);
      limiter.refund('a');
    }
    expect(limiter.take('a').ok).toBe(true);
    expect(limiter.take('a').ok).toBe(true);
    expect(limiter.take('a').ok).toBe(false);
  });

  it('remembers a bounded number of sources, forgetting the least recently seen', () => {
    const limiter = new SourceLimiter({ maxFailures: 1, windowSeconds: 60, maxSources: 2, now: () => 0 });
    limiter.take('a');
    limiter.take('b');
    expect(limiter.take('a').ok).toBe(false);
    limiter.take('c');
    // b was the least recently seen, so it starts afresh; a is still spent.
    expect(limiter.take('b').ok).toBe(true);
    expect(limiter.take('c').ok).toBe(false);
  });
});
