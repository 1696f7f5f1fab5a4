import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { ErrorType } from '@opsc/contracts';
import { artifactSha256 } from './artifacts.js';
import { RemoteFailure } from './remote-failure.js';

/** An artifact version ready to send: a local copy whose SHA-256 was checked against the plan's pin. */
export interface OpenedArtifact {
  file: string;
  bytes: number;
  sha256: string;
}

/**
 * Where file-copy's bytes come from: the tenant's artifact store in PostgreSQL, the version the job's
 * plan pins. Each version is read once into a local cache (named by its SHA-256) and checked there.
 */
export interface ArtifactSource {
  open(jobId: string, name: string, sha256: string | undefined): Promise<OpenedArtifact>;
  /**
   * The SHA-256 the plan pins, once the job's tenant's store is seen to hold that version: a metadata
   * read only (check mode compares a target's file with it), nothing is fetched or cached.
   */
  pinned(jobId: string, name: string, sha256: string | undefined): Promise<string>;
}

/** Where the store's local copies are kept: a folder of the executor's artifact folder, apart from fetched files. */
export const artifactCacheDir = (artifactDir: string): string => path.join(artifactDir, '.store');

/** Chunks (1 MiB each) read per query: memory stays at a few MiB whatever the artifact's size. */
const CHUNKS_PER_READ = 8;

async function* chunksOf(pool: pg.Pool, artifactId: string): AsyncGenerator<Buffer> {
  for (let from = 0; ; from += CHUNKS_PER_READ) {
    const { rows } = await pool.query<{ data: Buffer }>(
      'SELECT data FROM artifact_chunks WHERE artifact_id = $1 AND seq >= $2 AND seq < $3 ORDER BY seq',
      [artifactId, from, from + CHUNKS_PER_READ],
    );
    for (const row of rows) yield row.data;
    if (rows.length < CHUNKS_PER_READ) return;
  }
}

export interface ArtifactCacheLimits {
  /** The cache's size past which the least recently used copies go. */
  maxBytes: number;
  /** A copy used more recently than this stays whatever the size: a copy may still be reading it. */
  keepUsedWithinMs: number;
}

/** 2 GiB, and nothing used within the last hour goes (`EXECUTOR_ARTIFACT_CACHE_MAX_MB`). */
export const DEFAULT_ARTIFACT_CACHE: ArtifactCacheLimits = { maxBytes: 2 * 1024 ** 3, keepUsedWithinMs: 3_600_000 };

/**
 * Keeps the cache within its size: removes the least recently used copies until the rest fit, never
 * one used within `keepUsedWithinMs`. A copy's last use is what `usedAt` remembers (by SHA-256), else
 * when it was written. Returns the files removed. Every copy can be read again from PostgreSQL, so
 * removing one costs only a fetch.
 */
export const pruneArtifactCache = async (
  cacheDir: string,
  limits: ArtifactCacheLimits,
  usedAt: ReadonlyMap<string, number> = new Map(),
  now = Date.now(),
): Promise<string[]> => {
  const names = await readdir(cacheDir).catch(() => [] as string[]);
  const copies: { file: string; bytes: number; usedAt: number }[] = [];
  for (const name of names) {
    if (!/^[0-9a-f]{64}$/.test(name)) continue;
    const file = path.join(cacheDir, name);
    const s = await stat(file).catch(() => null);
    if (s?.isFile()) copies.push({ file, bytes: s.size, usedAt: Math.max(s.mtimeMs, usedAt.get(name) ?? 0) });
  }
  let total = copies.reduce((sum, c) => sum + c.bytes, 0);
  const removed: string[] = [];
  for (const c of copies.sort((a, b) => a.usedAt - b.usedAt)) {
    if (total <= limits.maxBytes) break;
    if (now - c.usedAt < limits.keepUsedWithinMs) break;
    await rm(c.file, { force: true });
    total -= c.bytes;
    removed.push(c.file);
  }
  return removed;
};

/** `cacheDir` holds the local copies; nothing else is kept there. */
export const createArtifactSource = (
  pool: pg.Pool,
  cacheDir: string,
  limits: ArtifactCacheLimits = DEFAULT_ARTIFACT_CACHE,
): ArtifactSource => {
  const fetching = new Map<string, Promise<void>>();
  /** When each copy (by SHA-256) was last opened by this process. */
  const usedAt = new Map<string, number>();
  let pruning: Promise<unknown> = Promise.resolve();

  /** Streams the version's chunks into the cache, hashing them; a copy that is not the pinned bytes is never kept. */
  const fetchInto = async (file: string, artifactId: string, name: string, sha256: string): Promise<void> => {
    await mkdir(cacheDir, { recursive: true, mode: 0o700 });
    const part = path.join(cacheDir, `.${sha256}.${randomBytes(6).toString('hex')}.part`);
    const hash = createHash('sha256');
    try {
      await pipeline(
        chunksOf(pool, artifactId),
        async function* (chunks: AsyncIterable<Buffer>) {
          for await (const chunk of chunks) {
            hash.update(chunk);
            yield chunk;
          }
        },
        createWriteStream(part, { mode: 0o600 }),
      );
      const got = hash.digest('hex');
      if (got !== sha256)
        throw new RemoteFailure(
          ErrorType.ValidationFailed,
          `artifact ${name} as stored has SHA-256 ${got}, not the ${sha256} its plan pins: nothing was copied`,
        );
      await rename(part, file);
    } finally {
      await rm(part, { force: true });
    }
  };

  /** The job's tenant's version with the pinned hash, and nothing else (another tenant's upload is not there). */
  const versionOf = async (
    jobId: string,
    name: string,
    sha256: string | undefined,
  ): Promise<{ id: string; sizeBytes: number; sha256: string }> => {
    if (!sha256)
      throw new RemoteFailure(
        ErrorType.ValidationFailed,
        `the copy of artifact ${name} pins no SHA-256: validate the plan again so that it pins an uploaded version`,
      );
    const { rows } = await pool.query<{ id: string; size_bytes: string }>(
      `SELECT a.id, a.size_bytes FROM artifacts a JOIN jobs j ON j.tenant_id = a.tenant_id
        WHERE j.id = $1 AND a.name = $2 AND a.sha256 = $3`,
      [jobId, name, sha256],
    );
    const row = rows[0];
    if (!row)
      throw new RemoteFailure(
        ErrorType.NotFound,
        `no upload of artifact ${name} with SHA-256 ${sha256} in the job's tenant`,
      );
    return { id: row.id, sizeBytes: Number(row.size_bytes), sha256 };
  };

  return {
    pinned: async (jobId, name, sha256) => (await versionOf(jobId, name, sha256)).sha256,
    async open(jobId, name, wanted) {
      const { id, sizeBytes, sha256 } = await versionOf(jobId, name, wanted);
      const file = path.join(cacheDir, sha256);
      usedAt.set(sha256, Date.now());
      const cached = await stat(file).then(
        (s) => s.isFile(),
        () => false,
      );
      // A cached copy is hashed again when it changed on disk (artifactSha256 remembers per file version).
      if (!cached || (await artifactSha256(file)) !== sha256) {
        let pending = fetching.get(sha256);
        if (!pending) {
          pending = fetchInto(file, id, name, sha256).finally(() => fetching.delete(sha256));
          fetching.set(sha256, pending);
          // After each new copy, one pruning at a time; a failed pruning costs disk, never the copy.
          pending.then(
            () =>
              (pruning = pruning
                .then(() => pruneArtifactCache(cacheDir, limits, usedAt))
                .then((removed) => removed.forEach((f) => usedAt.delete(path.basename(f))))
                .catch(() => undefined)),
            () => undefined,
          );
        }
        await pending;
      }
      usedAt.set(sha256, Date.now());
      return { file, bytes: sizeBytes, sha256 };
    },
  };
};
