import { describe, expect, it } from 'vitest';
import { classifyAddress, effectiveAddress, formatIp, parseIp, parseIpv4Loose, parseIpv6 } from './ip-address.js';

const cls = (text: string) => classifyAddress(parseIp(text) ?? parseIpv4Loose(text)!);

describe('IP addresses in every spelling a resolver accepts', () => {
  it('reads IPv4 as inet_aton does: one to four parts, decimal, octal or hex', () => {
    for (const form of [
      '127.0.0.1',
      '2130706433',
      '0x7f.1',
      '0x7f000001',
      '0177.0.0.1',
      '127.1',
      '127.0.1',
      '0x7F.0.0.0x1',
    ]) {
      expect(parseIpv4Loose(form), form).toEqual([127, 0, 0, 1]);
    }
    for (const bad of ['256.0.0.1', '1.2.3.4.5', '4294967296', '08.0.0.1', '1..2', '', 'x.1', '1.2.3.256']) {
      expect(parseIpv4Loose(bad), bad).toBeNull();
    }
  });

  it('reads IPv6 with compression, an IPv4 tail or brackets, and refuses zone ids and malformed forms', () => {
    expect(formatIp(parseIpv6('::1')!)).toBe('::1');
    expect(formatIp(parseIpv6('[fd00:ec2::254]')!)).toBe('fd00:ec2::254');
    expect(parseIpv6('::ffff:127.0.0.1')).toEqual([...Array(10).fill(0), 0xff, 0xff, 127, 0, 0, 1]);
    expect(formatIp(parseIpv6('2001:db8:0:0:1:0:0:1')!)).toBe('2001:db8::1:0:0:1');
    for (const bad of [
      'fe80::1%eth0',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      '1.2.3.4::',
      '::gggg',
      '1:2:3:4:5:6:7',
      '127.0.0.1',
    ]) {
      expect(parseIpv6(bad), bad).toBeNull();
    }
  });

  it('classes loopback, link-local, private and the IPv6 forms that carry an IPv4 address', () => {
    expect(cls('127.0.0.1')).toBe('loopback');
    expect(cls('127.255.0.9')).toBe('loopback');
    expect(cls('0.0.0.0')).toBe('unspecified');
    expect(cls('::')).toBe('unspecified');
    expect(cls('::1')).toBe('loopback');
    expect(cls('::ffff:127.0.0.1')).toBe('loopback');
    expect(cls('::ffff:7f00:1')).toBe('loopback');
    expect(cls('::127.0.0.1')).toBe('loopback');
    expect(cls('64:ff9b::7f00:1')).toBe('loopback');
    expect(cls('2002:7f00:1::')).toBe('loopback');
    expect(cls('169.254.1.1')).toBe('link-local');
    expect(cls('fe80::1')).toBe('link-local');
    expect(cls('febf::1')).toBe('link-local');
    for (const a of ['10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '100.64.0.1', 'fd12::1', 'fc00::1'])
      expect(cls(a), a).toBe('private');
    expect(cls('224.0.0.1')).toBe('multicast');
    expect(cls('ff02::1')).toBe('multicast');
    expect(cls('255.255.255.255')).toBe('reserved');
    for (const a of ['8.8.8.8', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8', '203.0.113.9'])
      expect(cls(a), a).toBe('public');
  });

  it('treats a mapped IPv6 address as the IPv4 address a socket reaches', () => {
    expect(effectiveAddress(parseIp('::ffff:10.0.0.1')!)).toEqual([10, 0, 0, 1]);
    expect(effectiveAddress(parseIp('fd00::1')!)).toEqual(parseIp('fd00::1'));
  });
});
