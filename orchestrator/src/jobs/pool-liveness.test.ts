import type { Client } from '@temporalio/client';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createPoolLiveness } from './pool-liveness.js';

/** Temporal's answer about a queue and the executors' reports, as the test sets them. */
const world = () => {
  const state = { pollers: [] as { lastAccessTime: { seconds: number } }[], described: 0 };
  const client = {
    workflowService: {
      describeTaskQueue: async () => {
        state.described += 1;
        return { pollers: state.pollers };
      },
    },
  } as unknown as Client;
  const db = { query: async () => ({ rows: [{ n: 0 }] }) } as unknown as pg.Pool;
  return { state, liveness: createPoolLiveness(client, db, 'ns', { freshSeconds: 90 }) };
};

describe('pool liveness', () => {
  it('asks again at once, before refusing a job, about a pool it found quiet: an executor started a moment ago is seen', async () => {
    const { state, liveness } = world();
    expect(await liveness.quiet('t', ['site-a'])).toEqual(new Set(['site-a']));
    // The operator starts an executor of the pool and submits again straight away.
    state.pollers.push({ lastAccessTime: { seconds: Math.floor(Date.now() / 1000) } });
    // A reader (the monitor, the metrics) may have the last second's answer; a refusal asks again.
    expect(await liveness.quiet('t', ['site-a'])).toEqual(new Set(['site-a']));
    expect(await liveness.quiet('t', ['site-a'], { fresh: true })).toEqual(new Set());
    expect(state.described).toBe(2);
  });

  it('keeps a served answer for a few seconds, and shares one question between callers at once', async () => {
    const { state, liveness } = world();
    state.pollers.push({ lastAccessTime: { seconds: Math.floor(Date.now() / 1000) } });
    const both = await Promise.all([liveness.quiet('t', ['site-a']), liveness.quiet('t', ['site-a'])]);
    expect(both).toEqual([new Set(), new Set()]);
    expect(await liveness.quiet('t', ['site-a'])).toEqual(new Set());
    expect(state.described).toBe(1);
  });
});
