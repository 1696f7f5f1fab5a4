import { describe, expect, it } from 'vitest';
import type { ResolvedTarget } from './api/inventory.js';
import { unfitTarget } from './target-fitness.js';

const target = (name: string, os: 'linux' | 'windows', services: [string, string | null][]): ResolvedTarget => ({
  id: name,
  name,
  address: '127.0.0.1',
  os,
  tags: [],
  services: services.map(
    ([protocol, credentialId]) => ({ protocol, port: 1, credentialId }) as ResolvedTarget['services'][number],
  ),
});

const lnx = target('lnx-01', 'linux', [['ssh', 'c1']]);
const win = target('win-01', 'windows', [['winrm', 'c2']]);
const db = target('db-01', 'linux', [
  ['ssh', 'c1'],
  ['postgresql', 'c3'],
]);

describe('unfitTarget: can this target take this step', () => {
  it('lets a target take a step of its OS with a credentialed service', () => {
    expect(unfitTarget(lnx, { method: 'ssh' })).toBeNull();
    expect(
      unfitTarget(win, { method: 'winrm', tool: { name: 'service-stop', places: ['linux', 'windows'] } }),
    ).toBeNull();
    expect(unfitTarget(db, { method: 'database', tool: { name: 'database-query', places: ['any'] } })).toBeNull();
    expect(unfitTarget(win, { method: 'http' })).toBeNull();
  });

  it("refuses a target outside the tool's places", () => {
    expect(unfitTarget(win, { method: 'ssh', tool: { name: 'disk-space', places: ['linux'] } })).toBe(
      'win-01 is a windows target; disk-space runs on linux',
    );
  });

  it('refuses a shell of the other OS, whatever the plan says', () => {
    expect(unfitTarget(lnx, { method: 'winrm' })).toBe('lnx-01 is a linux target; winrm steps run Windows operations');
    expect(unfitTarget(win, { method: 'ssh', tool: { name: 'x', places: ['any'] } })).toBe(
      'win-01 is a windows target; ssh steps run Linux operations',
    );
  });

  it('refuses a target without the service of the method, or without its credential', () => {
    expect(unfitTarget(target('win-bare', 'windows', []), { method: 'winrm' })).toBe(
      'win-bare has no winrm service in the inventory',
    );
    expect(unfitTarget(target('win-nocred', 'windows', [['winrm', null]]), { method: 'winrm' })).toBe(
      'the winrm service of win-nocred has no credential',
    );
    expect(unfitTarget(lnx, { method: 'database' })).toBe('lnx-01 has no postgresql service in the inventory');
    expect(unfitTarget(target('db-2', 'windows', [['postgresql', null]]), { method: 'database' })).toBe(
      'the postgresql service of db-2 has no credential',
    );
  });
});
