import type pg from 'pg';
import type { ArtifactSource } from '../artifact-source.js';
import type { DatabaseExecution, SshExecution, WinrmExecution } from '../deps.js';
import { createSecretOpener } from '../secrets.js';
import type { HostKey } from '../ssh/host-keys.js';
import type { Keyring } from '../vault/keyring.js';
import type { SealedCredential } from '../vault/store.js';
import type { OutageWait } from './database-outage.js';

export interface LookupCacheOptions {
  /** How old a remembered answer may be and still stand in for PostgreSQL while it is away. */
  ttlMs: number;
  /** Answers remembered at once; the least recently read goes first. */
  maxEntries: number;
  wait: OutageWait;
}

/**
 * What an action needs to start (the job's target as an endpoint, its pinned host key, the
 * credential's sealed secret), remembered per job and target. PostgreSQL is always asked first, so
 * a rotated credential or a moved host is seen at once; the remembered answer stands in only while
 * the database is away, and only for a short while. Without one the read waits (see `OutageWait`).
 */
export interface LookupCache {
  recall<T>(key: string, what: string, read: () => Promise<T>): Promise<T>;
  size(): number;
}

export const createLookupCache = ({ ttlMs, maxEntries, wait }: LookupCacheOptions): LookupCache => {
  const entries = new Map<string, { value: unknown; at: number }>();
  return {
    size: () => entries.size,
    async recall<T>(key: string, what: string, read: () => Promise<T>): Promise<T> {
      const value = await wait.outlast(
        what,
        async () => {
          const fresh = await read();
          entries.delete(key);
          entries.set(key, { value: fresh, at: Date.now() });
          if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
          return { fresh };
        },
        () => {
          const known = entries.get(key);
          return known && Date.now() - known.at < ttlMs ? { fresh: known.value as T } : undefined;
        },
      );
      return value.fresh;
    },
  };
};

export interface Executions {
  ssh: SshExecution;
  winrm: WinrmExecution;
  database: DatabaseExecution;
}

/** The executions with their inventory and vault reads going through `cache` (secrets: ciphertext only). */
export const withLookupCache = (
  executions: Executions,
  cache: LookupCache,
  db: pg.Pool,
  keyring: Keyring,
  wait: OutageWait,
): Executions => {
  const { ssh, winrm, database } = executions;
  const openSecret = createSecretOpener(db, keyring, (credentialId, read) =>
    cache.recall<SealedCredential>(`sealed|${credentialId}`, `credential ${credentialId}`, read),
  );
  // A job's pinned artifact version, once read into the local store: immutable, so a copy that
  // starts while the database is away sends the bytes already checked (the target checks them again).
  const artifactsOf = (source: ArtifactSource): ArtifactSource => ({
    open: (jobId, name, sha256) =>
      cache.recall(`artifact|${jobId}|${name}|${sha256 ?? ''}`, `artifact ${name}`, () =>
        source.open(jobId, name, sha256),
      ),
    pinned: (jobId, name, sha256) =>
      cache.recall(`artifact-pin|${jobId}|${name}|${sha256 ?? ''}`, `artifact ${name}`, () =>
        source.pinned(jobId, name, sha256),
      ),
  });
  return {
    ssh: {
      ...ssh,
      artifacts: artifactsOf(ssh.artifacts),
      findEndpoint: (jobId, targetId) =>
        cache.recall(`ssh|${jobId}|${targetId}`, `the SSH service of target ${targetId}`, () =>
          ssh.findEndpoint(jobId, targetId),
        ),
      openSecret,
      hostKeys: {
        get: (targetId) =>
          cache.recall<HostKey | null>(`host-key|${targetId}`, `the pinned host key of target ${targetId}`, () =>
            ssh.hostKeys.get(targetId),
          ),
        // A first contact writes the pin: it waits for the database, as nothing can stand in for it.
        pin: (targetId, key, source) =>
          wait.outlast(`the host key pin of target ${targetId}`, () => ssh.hostKeys.pin(targetId, key, source)),
      },
    },
    winrm: {
      ...winrm,
      artifacts: artifactsOf(winrm.artifacts),
      findEndpoint: (jobId, targetId) =>
        cache.recall(`winrm|${jobId}|${targetId}`, `the WinRM service of target ${targetId}`, () =>
          winrm.findEndpoint(jobId, targetId),
        ),
      openSecret,
    },
    database: {
      ...database,
      findService: (jobId, targetId) =>
        cache.recall(`postgresql|${jobId}|${targetId}`, `the PostgreSQL service of target ${targetId}`, () =>
          database.findService(jobId, targetId),
        ),
      openSecret,
    },
  };
};
