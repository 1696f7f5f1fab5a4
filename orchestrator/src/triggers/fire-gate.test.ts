import { describe, expect, it } from 'vitest';
import { Unavailable } from '../errors.js';
import { FireGate } from './fire-gate.js';

/** Work that ends when told to, recording how many ran at once. */
const held = () => {
  let release!: () => void;
  const done = new Promise<void>((resolve) => (release = resolve));
  return { done, release };
};

describe('FireGate', () => {
  it('runs at most `concurrent` at once, queues a bounded number and refuses the rest with Unavailable', async () => {
    const gate = new FireGate({ concurrent: 2, queued: 1, waitMs: 60_000 });
    let running = 0;
    let most = 0;
    const works = [held(), held(), held()];
    const runs = works.map((w) =>
      gate.run(async () => {
        running += 1;
        most = Math.max(most, running);
        await w.done;
        running -= 1;
        return 'ok';
      }),
    );
    await expect(gate.run(async () => 'never')).rejects.toBeInstanceOf(Unavailable);
    expect(running).toBe(2);
    for (const w of works) w.release();
    expect(await Promise.all(runs)).toEqual(['ok', 'ok', 'ok']);
    expect(most).toBe(2);
    // Every slot came back: two run at once again.
    const again = [held(), held()];
    const next = again.map((w) => gate.run(() => w.done));
    for (const w of again) w.release();
    await Promise.all(next);
  });

  it('refuses a queued delivery whose turn does not come within waitMs, and frees its place', async () => {
    const gate = new FireGate({ concurrent: 1, queued: 1, waitMs: 50 });
    const w = held();
    const first = gate.run(() => w.done);
    await expect(gate.run(async () => 'late')).rejects.toThrow(/retry in a few seconds/);
    w.release();
    await first;
    expect(await gate.run(async () => 'free')).toBe('free');
  });

  it('passes the slot on when the work fails', async () => {
    const gate = new FireGate({ concurrent: 1, queued: 5, waitMs: 60_000 });
    const failing = gate.run(() => Promise.reject(new Error('boom')));
    const after = gate.run(async () => 'after');
    await expect(failing).rejects.toThrow('boom');
    expect(await after).toBe('after');
  });
});
