import type { RequestHandler } from 'express';
import { ErrorType } from '@opsc/contracts';
import { ApiFailure } from './errors.js';

/**
 * Where start-up stands. The API listens first and says what it still waits for (Temporal, the
 * workflow worker, whose bundle takes a while); `ready()` once the worker polls its queue.
 */
export class Readiness {
  private waiting: string | null;
  readonly startedAt = Date.now();

  constructor(first: string) {
    this.waiting = first;
  }

  waitFor(what: string): void {
    this.waiting = what;
  }

  ready(): void {
    this.waiting = null;
  }

  /** What start-up still waits for; null once ready. */
  get waitingFor(): string | null {
    return this.waiting;
  }
}

/**
 * While starting, every route but health answers 503 Unavailable with Retry-After: a job's query
 * or start needs the worker and Temporal, and an answer that says so beats one that hangs.
 */
export const untilReady =
  (readiness: Readiness): RequestHandler =>
  (_req, res, next) => {
    const waiting = readiness.waitingFor;
    if (waiting === null) return next();
    res.setHeader('Retry-After', '5');
    next(
      new ApiFailure(
        ErrorType.Unavailable,
        `the orchestrator is starting (waiting for ${waiting}); retry in a few seconds`,
      ),
    );
  };
