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
  // The clock stands still: each answer's age is what the test says it is, however slow the machine.
  const clock = { ms: Date.parse('2026-12-04T12:00:00Z') };
  const liveness = createPoolLiveness(client, db, 'ns', { freshSeconds: 90, now: () => clock.ms });
  return { state, clock, liveness };
};

describe('pool liveness', () => {
  it('asks again at once, before refusing a job, about a pool it found quiet: an executor started a moment ago is seen', async () => {
    const { state, liveness } = world();
    expect(await liveness.quiet('t', ['site-a'])).toEqual(new Set(['site-a']));
    // The operator starts an executor of the pool and submits again straight away.
    state.pollers.push({ lastAccessTime: { seconds: 1_796_385_600 } });
    // A reader (the monitor, the metrics) may have the last second's answer; a refusal asks again.
    expect(await liveness.quiet('t', ['site-a'])).toEqual(new Set(['site-a']));
    expect(await liveness.quiet('t', ['site-a'], { fresh: true })).toEqual(new Set());
    expect(state.described).toBe(2);
  });

  it('answers a reader from the last second, and asks again after it', async () => {
    const { state, clock, liveness } = world();
    expect(await liveness.quiet('t', ['site-a'])).toEqual(new Set(['site-a']));
    state.pollers.push({ lastAccessTime: { seconds: 1_796_385_600 } });
    clock.ms += 900;
    expect(await liveness.quiet('t', ['site-a'])).toEqual(new Set(['site-a']));
    clock.ms += 200;
    expect(await liveness.quiet('t', ['site-a'])).toEqual(new Set());
    expect(state.described).toBe(2);
  });

  it('keeps a served answer for a few seconds, and shares one question between callers at once', async () => {
    const { state, liveness } = world();
    state.pollers.push({ lastAccessTime: { seconds: 1_796_385_600 } });
    const both = await Promise.all([liveness.quiet('t', ['site-a']), liveness.quiet('t', ['site-a'])]);
    expect(both).toEqual([new Set(), new Set()]);
    expect(await liveness.quiet('t', ['site-a'])).toEqual(new Set());
    expect(state.described).toBe(1);
  });
});
