import { describe, expect, it } from 'vitest';
import type { ResolvedTarget, TargetSelector } from '@opsc/contracts';
import { resolverOnce } from './resolve.js';

const fleet: ResolvedTarget[] = [
  { id: '1', name: 'lnx-01', address: '127.0.0.1', os: 'linux', tags: [], services: [] },
  { id: '2', name: 'win-01', address: '127.0.0.1', os: 'windows', tags: [], services: [] },
];

describe('resolverOnce', () => {
  it('asks the inventory once per selector, OS variants included, and filters by OS as resolveTargets does', async () => {
    const asked: TargetSelector[] = [];
    const resolve = resolverOnce(async (selector) => {
      asked.push(selector);
      return fleet.filter((t) => (selector.os ? t.os === selector.os : true));
    });
    expect((await resolve({ group: 'all' })).map((t) => t.name)).toEqual(['lnx-01', 'win-01']);
    expect((await resolve({ group: 'all', os: 'linux' })).map((t) => t.name)).toEqual(['lnx-01']);
    expect((await resolve({ group: 'all', os: 'windows' })).map((t) => t.name)).toEqual(['win-01']);
    expect(asked).toEqual([{ group: 'all' }]);
    await resolve({ group: 'all', tags: ['web'] });
    expect(asked).toHaveLength(2);
  });

  it('gives every caller the failure of a selector that does not resolve', async () => {
    let calls = 0;
    const resolve = resolverOnce(() => {
      calls += 1;
      return Promise.reject(new Error('no group named "ghost"'));
    });
    await expect(resolve({ group: 'ghost' })).rejects.toThrow('ghost');
    await expect(resolve({ group: 'ghost', os: 'linux' })).rejects.toThrow('ghost');
    expect(calls).toBe(1);
  });
});
