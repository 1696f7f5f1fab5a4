import { describe, expect, it } from 'vitest';
import { Address, TargetSelector } from './inventory.js';

describe('Address', () => {
  it.each(['127.0.0.2', '::1', 'fe80::1', 'web-01', 'CIS-SRV-23.corp.example', 'localhost'])('accepts %s', (value) => {
    expect(Address.safeParse(value).success).toBe(true);
  });
  it.each([
    '127.0.0.256',
    '999.1.1.1.1',
    'bad host',
    'host;rm',
    '-lead.example',
    'a'.repeat(64) + '.example',
    '',
    'http://x',
  ])('refuses %j', (value) => {
    expect(Address.safeParse(value).success).toBe(false);
  });
});

describe('TargetSelector', () => {
  it('needs a group, targets or tags', () => {
    expect(TargetSelector.safeParse({ os: 'linux' }).success).toBe(false);
    expect(TargetSelector.safeParse({ group: 'CIS servers', os: 'windows' }).success).toBe(true);
  });
});
