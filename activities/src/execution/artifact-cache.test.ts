import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pruneArtifactCache } from './artifact-source.js';

const HOUR = 3_600_000;
const sha = (c: string) => c.repeat(64);
let dir: string;
const now = Date.parse('2026-12-02T12:00:00Z');

/** A cached copy of `kib` KiB, written `hoursAgo` hours before `now`. */
const copy = async (name: string, kib: number, hoursAgo: number) => {
  const file = path.join(dir, name);
  await writeFile(file, Buffer.alloc(kib * 1024));
  const at = new Date(now - hoursAgo * HOUR);
  await utimes(file, at, at);
};

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'opsc-cache-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the executor keeps its local copies of artifacts within a size', () => {
  it('removes the least recently used copies until the rest fit, and nothing else', async () => {
    await copy(sha('a'), 40, 5);
    await copy(sha('b'), 40, 4);
    await copy(sha('c'), 40, 3);
    await writeFile(path.join(dir, `.${sha('d')}.0a1b2c.part`), Buffer.alloc(100 * 1024));
    const removed = await pruneArtifactCache(dir, { maxBytes: 90 * 1024, keepUsedWithinMs: HOUR }, new Map(), now);
    expect(removed.map((f) => path.basename(f))).toEqual([sha('a')]);
    expect((await readdir(dir)).sort()).toEqual([`.${sha('d')}.0a1b2c.part`, sha('b'), sha('c')]);
  });

  it('counts a use it remembers as recent, whenever the copy was written', async () => {
    await copy(sha('a'), 40, 5);
    await copy(sha('b'), 40, 4);
    const used = new Map([[sha('a'), now - 2 * HOUR]]);
    const removed = await pruneArtifactCache(dir, { maxBytes: 50 * 1024, keepUsedWithinMs: HOUR }, used, now);
    expect(removed.map((f) => path.basename(f))).toEqual([sha('b')]);
  });

  it('keeps a copy used within the grace time even when the cache is over its size', async () => {
    await copy(sha('a'), 40, 0.5);
    await copy(sha('b'), 40, 0.2);
    expect(await pruneArtifactCache(dir, { maxBytes: 1024, keepUsedWithinMs: HOUR }, new Map(), now)).toEqual([]);
    expect(await readdir(dir)).toHaveLength(2);
  });

  it('does nothing when the cache folder is not there yet', async () => {
    await expect(
      pruneArtifactCache(path.join(dir, 'absent'), { maxBytes: 0, keepUsedWithinMs: 0 }, new Map(), now),
    ).resolves.toEqual([]);
  });
});
