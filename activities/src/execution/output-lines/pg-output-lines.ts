import type pg from 'pg';
import { LineSplitter, MAX_LINE_BYTES } from './line-splitter.js';
import type { AttemptOutput, AttemptOutputOptions, OutputLineKey, OutputLineSink, OutputStream } from './sink.js';

export interface PgOutputLineOptions {
  /** The longest a queued line waits before it is written. */
  flushIntervalMs?: number;
  /** A batch this large is written at once, without waiting for the interval. */
  batchLines?: number;
  /** Lines streamed per step attempt; the rest are counted and summed up in one last line. */
  maxLinesPerAttempt?: number;
  maxLineBytes?: number;
  /** Lines waiting for PostgreSQL (across all attempts) beyond which new ones are dropped: a database outage must not eat the executor's memory. */
  maxQueuedLines?: number;
  /** How long an attempt's `close()` waits for its lines to be written. */
  closeTimeoutMs?: number;
  log?: (msg: string, fields: Record<string, unknown>) => void;
}

export interface OutputLineStats {
  /** Lines written to PostgreSQL since start. */
  written: number;
  /** Lines not streamed since start: over an attempt's cap, over the queue's bound, or refused by PostgreSQL. */
  dropped: number;
  /** Lines waiting to be written. */
  queued: number;
}

/** The process' writer of `output_lines`: one queue, batched multi-row INSERTs, one in flight at a time. */
export interface PgOutputLineSink extends OutputLineSink {
  stats(): OutputLineStats;
  /** Writes what is queued (waiting at most `timeoutMs`) and stops the timers. */
  close(timeoutMs?: number): Promise<void>;
}

interface Row {
  /** Position in the batch: `seq` follows it. */
  i: number;
  job_id: string;
  step_id: string;
  target_id: string;
  target_name: string;
  attempt: number;
  rerun: number;
  stream: OutputStream | 'progress';
  at: string;
  line: string;
}

/** Rows per INSERT; a larger backlog is written in several, in order. */
const MAX_ROWS_PER_INSERT = 2_000;
const MAX_BACKOFF_MS = 5_000;
const LOG_EVERY_MS = 30_000;

// ORDER BY the position, so `seq` (assigned as rows are inserted) follows the order lines were read.
const INSERT = `INSERT INTO output_lines (job_id, step_id, target_id, target_name, attempt, rerun, stream, at, line)
  SELECT r.job_id, r.step_id, r.target_id, r.target_name, r.attempt, r.rerun, r.stream, r.at, r.line
  FROM jsonb_to_recordset($1::jsonb) AS r(i integer, job_id text, step_id text, target_id text, target_name text,
    attempt integer, rerun integer, stream text, at timestamptz, line text)
  ORDER BY r.i`;

/** SQLSTATE classes a retry cannot fix: data exceptions, integrity (the job is gone), syntax or privileges. */
const isPermanent = (err: unknown): boolean => {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^(22|23|42)/.test(code);
};

export const createPgOutputLineSink = (pool: pg.Pool, options: PgOutputLineOptions = {}): PgOutputLineSink => {
  const flushIntervalMs = options.flushIntervalMs ?? 200;
  const batchLines = options.batchLines ?? 500;
  const maxLinesPerAttempt = options.maxLinesPerAttempt ?? 10_000;
  const maxLineBytes = options.maxLineBytes ?? MAX_LINE_BYTES;
  const maxQueuedLines = options.maxQueuedLines ?? 100_000;
  const closeTimeoutMs = options.closeTimeoutMs ?? 5_000;
  const log = options.log ?? (() => undefined);

  const queue: Row[] = [];
  /** Rows ever queued, and rows taken off the front (written or given up): FIFO, so a row's number tells whether it is done. */
  let queued = 0;
  let processed = 0;
  let written = 0;
  let dropped = 0;
  let flushing = false;
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;
  let lastLoggedAt = 0;
  /** While the sink closes its timers hold the process open; once closed nothing is scheduled. */
  let closing = false;
  let stopped = false;
  const waiters: { upTo: number; resolve: () => void }[] = [];

  const settle = () => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i]!;
      if (processed >= w.upTo) {
        waiters.splice(i, 1);
        w.resolve();
      }
    }
  };

  /** Resolves once every row queued so far is processed, or after `timeoutMs`. */
  const settled = (timeoutMs: number): Promise<void> => {
    const upTo = queued;
    if (processed >= upTo) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter = { upTo, resolve: () => (clearTimeout(giveUp), resolve()) };
      const giveUp = setTimeout(() => {
        const at = waiters.indexOf(waiter);
        if (at !== -1) waiters.splice(at, 1);
        resolve();
      }, timeoutMs);
      if (!closing) giveUp.unref();
      waiters.push(waiter);
    });
  };

  const schedule = (delayMs: number) => {
    if (stopped || timer || flushing || queue.length === 0) return;
    timer = setTimeout(() => {
      timer = undefined;
      void drain();
    }, delayMs);
    if (!closing) timer.unref();
  };

  const take = (count: number, write: boolean) => {
    queue.splice(0, count);
    processed += count;
    if (write) written += count;
    else dropped += count;
    settle();
  };

  const insert = async (rows: Row[]) => {
    await pool.query(INSERT, [JSON.stringify(rows.map((r, i) => ({ ...r, i })))]);
  };

  /**
   * A batch PostgreSQL refused for good: written job by job, so one deleted job does not lose the
   * others' lines. When the database goes away midway, the jobs not yet done stay queued, in order.
   */
  const insertByJob = async (batch: Row[]) => {
    const jobs = new Map<string, Row[]>();
    for (const row of batch) {
      const rows = jobs.get(row.job_id);
      if (rows) rows.push(row);
      else jobs.set(row.job_id, [row]);
    }
    const done = new Set<string>();
    let lost = 0;
    try {
      for (const [jobId, rows] of jobs) {
        try {
          await insert(rows);
          written += rows.length;
        } catch (err) {
          if (!isPermanent(err)) throw err;
          lost += rows.length;
          log('output lines refused by PostgreSQL, not streamed', {
            jobId,
            lines: rows.length,
            error: (err as Error).message,
          });
        }
        done.add(jobId);
      }
    } finally {
      const left = batch.filter((row) => !done.has(row.job_id));
      queue.splice(0, batch.length, ...left);
      processed += batch.length - left.length;
      dropped += lost;
      settle();
    }
  };

  const drain = async (): Promise<void> => {
    if (flushing) return;
    flushing = true;
    clearTimeout(timer);
    timer = undefined;
    let retryInMs: number | undefined;
    try {
      while (queue.length > 0) {
        const batch = queue.slice(0, MAX_ROWS_PER_INSERT);
        try {
          await insert(batch);
          take(batch.length, true);
        } catch (err) {
          if (isPermanent(err)) {
            await insertByJob(batch);
            continue;
          }
          throw err;
        }
        if (failures > 0) log('output lines are written again', { after: failures });
        failures = 0;
      }
    } catch (err) {
      // The rows stay queued, in order, for the next flush; the steps go on regardless.
      failures++;
      retryInMs = Math.min(MAX_BACKOFF_MS, flushIntervalMs * 2 ** Math.min(failures, 8));
      if (Date.now() - lastLoggedAt >= LOG_EVERY_MS) {
        lastLoggedAt = Date.now();
        log('writing output lines failed; retrying', { error: (err as Error).message, queued: queue.length, failures });
      }
    } finally {
      flushing = false;
    }
    // A closing attempt waits for its lines: those go out at once, not after the interval.
    schedule(retryInMs ?? (queue.length >= batchLines || waiters.length > 0 ? 0 : flushIntervalMs));
  };

  /** Queues a line; false when the queue is full (the line is dropped). */
  const enqueue = (key: OutputLineKey, stream: OutputStream | 'progress', line: string, force = false): boolean => {
    if (queue.length >= maxQueuedLines && !force) {
      dropped++;
      return false;
    }
    queue.push({
      i: 0,
      job_id: key.jobId,
      step_id: key.stepId,
      target_id: key.targetId,
      target_name: key.targetName,
      attempt: key.attempt,
      rerun: key.rerun ?? 0,
      stream,
      at: new Date().toISOString(),
      line,
    });
    queued++;
    if (queue.length >= batchLines && !flushing) void drain();
    else schedule(flushIntervalMs);
    return true;
  };

  const open = (key: OutputLineKey, attemptOptions: AttemptOutputOptions = {}): AttemptOutput => {
    const splitters = { stdout: new LineSplitter(maxLineBytes), stderr: new LineSplitter(maxLineBytes) };
    let streamed = 0;
    let notStreamed = 0;
    let closed = false;
    const add = (stream: OutputStream, whole: string) => {
      if (attemptOptions.skipLine?.(stream, whole)) return;
      const line = attemptOptions.redact ? attemptOptions.redact(whole) : whole;
      if (streamed >= maxLinesPerAttempt) {
        notStreamed++;
        dropped++;
      } else if (enqueue(key, stream, line)) streamed++;
      else notStreamed++;
    };
    const write = (stream: OutputStream, chunk: Buffer) => {
      if (closed || chunk.length === 0) return;
      for (const line of splitters[stream].push(chunk)) add(stream, line);
    };
    return {
      write,
      progress: (line) => {
        if (!closed) enqueue(key, 'progress', line);
      },
      writeText: (stream, text) =>
        write(stream, Buffer.from(text.endsWith('\n') || text === '' ? text : `${text}\n`, 'utf8')),
      async close() {
        if (closed) return;
        for (const stream of ['stdout', 'stderr'] as const)
          for (const line of splitters[stream].end()) add(stream, line);
        closed = true;
        if (notStreamed > 0)
          enqueue(key, 'stdout', `… ${notStreamed} more lines not streamed (full output is in the step result)`, true);
        const done = settled(closeTimeoutMs);
        // The step's result waits for these lines, so they are written now rather than at the next tick.
        if (processed < queued && !flushing && failures === 0) void drain();
        await done;
      },
    };
  };

  return {
    open,
    stats: () => ({ written, dropped, queued: queue.length }),
    async close(timeoutMs = closeTimeoutMs) {
      closing = true;
      await drain();
      await settled(timeoutMs);
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
      if (queue.length > 0) log('output lines not written before shutdown', { lines: queue.length });
    },
  };
};
