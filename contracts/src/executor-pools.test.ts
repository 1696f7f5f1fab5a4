import { describe, expect, it } from 'vitest';
import {
  DEFAULT_POOL,
  PoolName,
  actionPool,
  effectivePool,
  executorQueue,
  poolOf,
  quietPoolIssues,
} from './executor-pools.js';
import { TargetRef } from './target.js';

describe('executor pools', () => {
  it('keeps the default queue name for the default pool and gives each named pool its own queue', () => {
    expect(executorQueue(undefined, 't1')).toBe('executor');
    expect(executorQueue(DEFAULT_POOL, 't1')).toBe('executor');
    // A named pool is the tenant's own: the same name of another tenant is another queue.
    expect(executorQueue('dmz', 't1')).toBe('executor.pool.t1.dmz');
    expect(executorQueue('dmz', 't2')).toBe('executor.pool.t2.dmz');
    // A pool cannot be named after another queue: its queue always carries the prefix.
    expect(executorQueue('orchestrator', 't1')).toBe('executor.pool.t1.orchestrator');
    // Only actions on the target run in its pool; local commands and HTTP calls run in the default pool.
    expect(actionPool('ssh', { pool: 'dmz' })).toBe('dmz');
    expect(actionPool('database', { pool: 'dmz' })).toBe('dmz');
    expect(actionPool('http', { pool: 'dmz' })).toBe('executor');
    expect(actionPool('local-command', { pool: 'dmz' })).toBe('executor');
    expect(poolOf({})).toBe('executor');
    expect(poolOf({ pool: 'dmz' })).toBe('dmz');
  });

  it('accepts short lower-case names only', () => {
    for (const ok of ['dmz', 'a', 'site-2', 'x'.repeat(32)]) expect(PoolName.safeParse(ok).success, ok).toBe(true);
    for (const bad of ['', 'DMZ', '-dmz', 'dmz-', 'd.m', 'dmz pool', 'x'.repeat(33), '../x', 'dmz\n'])
      expect(PoolName.safeParse(bad).success, bad).toBe(false);
    expect(TargetRef.safeParse({ id: 't', name: 't', pool: 'Bad Pool' }).success).toBe(false);
  });

  it("takes the target's own pool, else the one its groups agree on, else the default", () => {
    expect(effectivePool('dmz', ['core', 'lab'])).toEqual({ pool: 'dmz' });
    expect(effectivePool(null, ['core', 'core'])).toEqual({ pool: 'core' });
    expect(effectivePool(undefined, [])).toEqual({ pool: 'executor' });
    expect(effectivePool(null, ['lab', 'core'])).toEqual({ pool: 'executor', conflict: ['core', 'lab'] });
  });

  it('names each quiet pool once, with some of its targets', () => {
    const targets = [
      ...Array.from({ length: 7 }, (_, i) => ({ name: `dmz-${i}`, executorPool: 'dmz' })),
      { name: 'core-1', executorPool: 'core' },
      { name: 'plain' },
    ];
    const issues = quietPoolIssues(targets, new Set(['dmz', 'executor']));
    expect(issues).toEqual([
      'no executor of pool "dmz" is polling (dmz-0, dmz-1, dmz-2, dmz-3, dmz-4 and 2 more): start one with EXECUTOR_POOL=dmz, or move the targets to a served pool',
      'no executor of pool "executor" is polling (plain): start one with EXECUTOR_POOL=executor, or move the targets to a served pool',
    ]);
    expect(quietPoolIssues(targets, new Set())).toEqual([]);
  });
});
