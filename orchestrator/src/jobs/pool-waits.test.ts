import { describe, expect, it } from 'vitest';
import type { JobProgress } from '@opsc/contracts';
import { withPoolWaits } from './pool-waits.js';

const progress = (status: JobProgress['status'], matrix: string[]): JobProgress =>
  ({ jobId: 'job-1', status, targets: ['a1', 'a2', 'b1', 'c1'], matrix }) as unknown as JobProgress;
const targets = [
  { id: '1', name: 'a1', pool: 'site-a' },
  { id: '2', name: 'a2', pool: 'site-a' },
  { id: '3', name: 'b1', pool: 'site-b' },
  { id: '4', name: 'c1' },
];
const liveness = (quiet: string[]) => {
  const asked: string[][] = [];
  return {
    asked,
    quiet: (_tenantId: string, pools: readonly string[]) => {
      asked.push([...pools]);
      return Promise.resolve(new Set(pools.filter((p) => quiet.includes(p))));
    },
  };
};

describe('targets waiting for a quiet executor pool', () => {
  it('names the running targets of quiet pools only', async () => {
    const pools = liveness(['site-a']);
    const answer = await withPoolWaits(progress('running', ['SSSS', '>.>>']), 'tenant-1', targets, pools);
    expect(answer.waiting).toEqual([{ pool: 'site-a', targets: ['a1'] }]);
    // Only the pools of running targets are asked about.
    expect(pools.asked).toEqual([['site-a', 'site-b', 'executor']]);
  });

  it('leaves the progress alone when nothing waits, the job is over, or no target names a pool', async () => {
    expect(
      (await withPoolWaits(progress('running', ['>>>>']), 'tenant-1', targets, liveness([]))).waiting,
    ).toBeUndefined();
    expect(
      (await withPoolWaits(progress('completed', ['>>>>']), 'tenant-1', targets, liveness(['site-a']))).waiting,
    ).toBeUndefined();
    const plain = targets.map(({ id, name }) => ({ id, name }));
    const pools = liveness(['executor']);
    expect((await withPoolWaits(progress('running', ['>>>>']), 'tenant-1', plain, pools)).waiting).toBeUndefined();
    expect(pools.asked).toEqual([]);
    expect(
      (await withPoolWaits(progress('running', ['>>>>']), 'tenant-1', targets, undefined)).waiting,
    ).toBeUndefined();
  });
});
