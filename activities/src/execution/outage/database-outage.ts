import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '@opsc/contracts';

/** Socket errors of a database connection that a later try may not meet. */
const TRANSIENT_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

/**
 * SQLSTATEs of a server that is away or restarting: class 08 (connection exception), 53300
 * (too many connections), 57P01-57P03 (admin/crash shutdown, cannot connect now).
 */
const TRANSIENT_STATE = /^(08...|53300|57P0[123])$/;

/** What node-postgres says when a connection ends or never starts, without a code. */
const TRANSIENT_MESSAGE =
  /Connection terminated|timeout exceeded when trying to connect|connection error and is not queryable|Client was closed/i;

/** Whether `err` says the database is unreachable now (a try later may succeed), not that the request is wrong. */
export const isDatabaseOutage = (err: unknown): boolean => {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return TRANSIENT_SOCKET_CODES.has(code) || TRANSIENT_STATE.test(code);
  if (err instanceof AggregateError) return err.errors.some(isDatabaseOutage);
  return TRANSIENT_MESSAGE.test(err.message);
};

/**
 * Whether `err` is one that a busy database also gives: the pool's own wait for a free connection
 * ("timeout exceeded when trying to connect"), or too many connections (53300). Such an error is
 * waited out like an outage, but what was remembered never stands in for it: the database may be up
 * and have revoked a credential, deleted a target or ended a job a moment ago.
 */
export const mayBeBusyNotDown = (err: unknown): boolean => {
  if (!(err instanceof Error)) return false;
  if (err instanceof AggregateError) return err.errors.every(mayBeBusyNotDown);
  const code = (err as { code?: unknown }).code;
  return code === '53300' || (typeof code !== 'string' && /timeout exceeded when trying to connect/i.test(err.message));
};

/** A short name for an outage error, for logs and failure messages (never the connection string). */
export const outageCode = (err: unknown): string => {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : ((err as Error).message ?? String(err)).slice(0, 80);
};

/** Until when the current activity may wait for the database, by its context (see `allowOutageWait`). */
const patience = new WeakMap<Context, number>();

/**
 * Lets the running activity wait for the database until `until` (ms since epoch): the time its own
 * timeout leaves once the action itself is given its whole time limit.
 */
export const allowOutageWait = (ctx: Context, until: number): void => {
  patience.set(ctx, until);
};

const activityContext = (): Context | undefined => {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
};

export interface OutageWaitStats {
  /** Reads waiting for the database now. */
  waiting: number;
  /** Reads that had to wait, since start. */
  waited: number;
  /** Reads answered from what was remembered because the database was away, since start. */
  remembered: number;
}

export interface OutageWait {
  /**
   * Reads with `read`; while the database is away, answers `fallback()` if it has a value, else
   * tries again with backoff, heartbeating and honouring cancellation, for as long as the activity
   * allows (see `allowOutageWait`; outside an activity: once). Then fails retryable (RecordsUnavailable):
   * nothing has run. Other errors pass through at once.
   */
  outlast<T>(what: string, read: () => Promise<T>, fallback?: () => T | undefined): Promise<T>;
  stats(): OutageWaitStats;
}

const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 5_000;

export const createOutageWait = (
  log: (msg: string, fields: Record<string, unknown>, level: 'info' | 'warn') => void = () => undefined,
): OutageWait => {
  const counts = { waiting: 0, waited: 0, remembered: 0 };
  return {
    stats: () => ({ ...counts }),
    async outlast(what, read, fallback) {
      const ctx = activityContext();
      const until = (ctx && patience.get(ctx)) ?? 0;
      let waiting = false;
      const began = Date.now();
      try {
        for (let delay = FIRST_DELAY_MS; ; delay = Math.min(delay * 2, MAX_DELAY_MS)) {
          try {
            const value = await read();
            if (waiting) log('the database is back', { what, waitedMs: Date.now() - began }, 'info');
            return value;
          } catch (err) {
            if (!isDatabaseOutage(err)) throw err;
            const known = mayBeBusyNotDown(err) ? undefined : fallback?.();
            if (known !== undefined) {
              counts.remembered += 1;
              return known;
            }
            if (!ctx || Date.now() + delay > until) {
              throw ApplicationFailure.retryable(
                `${what} cannot be read: the database is unreachable (${outageCode(err)}); nothing was run`,
                ErrorType.RecordsUnavailable,
              );
            }
            if (!waiting) {
              waiting = true;
              counts.waiting += 1;
              counts.waited += 1;
              log('waiting for the database', { what, error: outageCode(err) }, 'warn');
            }
            // Heartbeats well within the heartbeat timeout; sleep rejects with a CancelledFailure when the activity is cancelled.
            const beat = Math.max(100, Math.min(1_000, (ctx.info.heartbeatTimeoutMs || 3_000) / 3));
            for (let slept = 0; slept < delay; slept += beat) {
              ctx.heartbeat();
              await ctx.sleep(Math.min(beat, delay - slept));
            }
          }
        }
      } finally {
        if (waiting) counts.waiting -= 1;
      }
    },
  };
};
