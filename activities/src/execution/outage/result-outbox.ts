import type { ExecutionRecord, OutputStore } from '../output-store.js';
import { isDatabaseOutage, outageCode } from './database-outage.js';

export interface ResultOutboxOptions {
  /** Results kept while PostgreSQL is away; past it the oldest is dropped (counted and logged). */
  maxRecords?: number;
  /** Bytes of output kept while PostgreSQL is away; past it the oldest results lose their output (not their exit code and facts). */
  maxBytes?: number;
  /** How long a save waits for its first try before it is left to the background. */
  firstTryMs?: number;
  log?: (msg: string, fields: Record<string, unknown>, level: 'info' | 'warn' | 'error') => void;
}

export interface ResultOutboxStats {
  /** Results waiting for PostgreSQL. */
  pending: number;
  pendingBytes: number;
  /** Results saved after their first try failed, since start. */
  saved: number;
  /** Results lost: over the bound, refused by PostgreSQL for good, or still pending at shutdown. */
  dropped: number;
  /** Results whose output was dropped to keep within the byte bound. */
  outputDropped: number;
}

/**
 * The executor's step results on their way to PostgreSQL. A save tries at once, as before; when the
 * database is away the result stays here and is saved with retries in the background, so an action
 * that ran is never failed by its bookkeeping (the workflow has the activity's result). Saving is
 * an idempotent upsert, so a resend lands once.
 */
export interface ResultOutbox extends OutputStore {
  stats(): ResultOutboxStats;
  /** The facts of a result still waiting here: newer than anything PostgreSQL has for that key. */
  pendingFacts(jobId: string, stepId: string, targetId: string): Record<string, string> | undefined;
  /** Saves what is pending, for at most `timeoutMs`, then stops (what is left is logged as lost). */
  close(timeoutMs: number): Promise<void>;
}

interface Entry {
  record: ExecutionRecord;
  bytes: number;
}

const keyOf = (jobId: string, stepId: string, targetId: string) => JSON.stringify([jobId, stepId, targetId]);
const sizeOf = (r: ExecutionRecord) => Buffer.byteLength(r.stdout) + Buffer.byteLength(r.stderr) + 1_024;
const MAX_BACKOFF_MS = 10_000;
const DROPPED_OUTPUT =
  '[output dropped: the executor kept this result while PostgreSQL was unreachable and its outbox was full]\n';

/** SQLSTATE classes a retry cannot fix: data exceptions, integrity (the job is gone), syntax or privileges. */
const isPermanent = (err: unknown): boolean => {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^(22|23|42)/.test(code);
};

/** Resolves after `ms`; an unref'd timer does not keep the process alive, a flush at shutdown needs one that does. */
const timeout = (ms: number, keepAlive = false) =>
  new Promise<'timeout'>((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), ms);
    if (!keepAlive) timer.unref();
  });

export const createResultOutbox = (store: OutputStore, options: ResultOutboxOptions = {}): ResultOutbox => {
  const maxRecords = options.maxRecords ?? 10_000;
  const maxBytes = options.maxBytes ?? 128 * 1_048_576;
  const firstTryMs = options.firstTryMs ?? 3_000;
  const log = options.log ?? (() => undefined);
  /** In the order results came; a newer attempt's result replaces an older one of the same key. */
  const pending = new Map<string, Entry>();
  const counts = { saved: 0, dropped: 0, outputDropped: 0 };
  let pendingBytes = 0;
  let timer: NodeJS.Timeout | undefined;
  let draining: Promise<void> | undefined;
  let backoffMs = 250;
  let closed = false;

  const remove = (key: string, entry: Entry) => {
    if (pending.get(key) !== entry) return;
    pending.delete(key);
    pendingBytes -= entry.bytes;
  };

  const fitBounds = () => {
    for (const [key, entry] of pending) {
      if (pending.size <= maxRecords) break;
      remove(key, entry);
      counts.dropped += 1;
      const { context, attempt } = entry.record;
      log(
        'step result dropped: the executor outbox is full (EXECUTOR_RESULT_OUTBOX_MAX_RECORDS)',
        { jobId: context.jobId, stepId: context.stepId, targetId: context.target.id, attempt },
        'error',
      );
    }
    for (const entry of pending.values()) {
      if (pendingBytes <= maxBytes) break;
      if (entry.bytes <= 1_024 + DROPPED_OUTPUT.length) continue;
      const r = entry.record;
      entry.record = {
        ...r,
        stdout: '',
        stderr: DROPPED_OUTPUT,
        stdoutTruncated: r.stdoutTruncated || r.stdout.length > 0,
        stderrTruncated: true,
      };
      pendingBytes -= entry.bytes - sizeOf(entry.record);
      entry.bytes = sizeOf(entry.record);
      counts.outputDropped += 1;
      log(
        'step output dropped: the executor outbox is over EXECUTOR_RESULT_OUTBOX_MAX_BYTES (exit code and facts kept)',
        { jobId: r.context.jobId, stepId: r.context.stepId, targetId: r.context.target.id },
        'warn',
      );
    }
  };

  const enqueue = (record: ExecutionRecord) => {
    const key = keyOf(record.context.jobId, record.context.stepId, record.context.target.id);
    const before = pending.get(key);
    // A later re-run (decide `retry`) is newer than any attempt of an earlier run.
    const order = (r: ExecutionRecord) => (r.context.rerun ?? 0) * 1_000_000 + r.attempt;
    if (before && order(before.record) > order(record)) return;
    if (before) remove(key, before);
    const entry = { record, bytes: sizeOf(record) };
    pending.set(key, entry);
    pendingBytes += entry.bytes;
    fitBounds();
  };

  /** One pass over what is pending, oldest first; stops at the first sign that the database is still away. */
  const drain = async (): Promise<boolean> => {
    for (const [key, entry] of [...pending]) {
      try {
        await store.saveResult(entry.record);
        remove(key, entry);
        counts.saved += 1;
      } catch (err) {
        if (isPermanent(err)) {
          remove(key, entry);
          counts.dropped += 1;
          log(
            'step result dropped: PostgreSQL refused it',
            { jobId: entry.record.context.jobId, stepId: entry.record.context.stepId, error: outageCode(err) },
            'error',
          );
          continue;
        }
        return false;
      }
    }
    return true;
  };

  const schedule = () => {
    if (timer || draining || closed || pending.size === 0) return;
    timer = setTimeout(() => {
      timer = undefined;
      draining = drain()
        .then((done) => {
          backoffMs = done ? 250 : Math.min(backoffMs * 2, MAX_BACKOFF_MS);
          if (done && pending.size === 0)
            log('step results kept during the outage are saved', { saved: counts.saved }, 'info');
        })
        .finally(() => {
          draining = undefined;
          schedule();
        });
    }, backoffMs);
    timer.unref();
  };

  return {
    async saveResult(record) {
      const first = store.saveResult(record);
      let outcome: 'saved' | 'timeout' | { err: unknown };
      try {
        outcome = await Promise.race([first.then(() => 'saved' as const), timeout(firstTryMs)]);
      } catch (err) {
        outcome = { err };
      }
      if (outcome === 'saved') return;
      if (typeof outcome === 'object') {
        // A result PostgreSQL refuses for good is a bug to see, not an outage to wait out.
        if (!isDatabaseOutage(outcome.err) && isPermanent(outcome.err)) throw outcome.err;
        if (pending.size === 0)
          log(
            'PostgreSQL unreachable: step results are kept on the executor and saved when it is back',
            { error: outageCode(outcome.err) },
            'warn',
          );
      } else {
        first.catch(() => undefined);
      }
      enqueue(record);
      schedule();
    },
    stats: () => ({ pending: pending.size, pendingBytes, ...counts }),
    pendingFacts(jobId, stepId, targetId) {
      const entry = pending.get(keyOf(jobId, stepId, targetId));
      return entry ? (entry.record.facts ?? {}) : undefined;
    },
    async close(timeoutMs) {
      closed = true;
      clearTimeout(timer);
      const until = Date.now() + timeoutMs;
      await draining;
      while (pending.size > 0 && Date.now() < until) {
        if (await Promise.race([drain(), timeout(Math.max(1, until - Date.now())).then(() => false)])) break;
        await timeout(Math.min(500, Math.max(1, until - Date.now())), true);
      }
      if (pending.size > 0) {
        counts.dropped += pending.size;
        log(
          'step results not saved before shutdown (PostgreSQL unreachable): they are lost',
          {
            results: [...pending.values()]
              .map((e) => ({
                jobId: e.record.context.jobId,
                stepId: e.record.context.stepId,
                targetId: e.record.context.target.id,
              }))
              .slice(0, 50),
            count: pending.size,
          },
          'error',
        );
      }
    },
  };
};
