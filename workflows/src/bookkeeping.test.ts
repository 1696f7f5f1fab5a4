import { describe, expect, it } from 'vitest';
import { BOOKKEEPING } from './bookkeeping.js';

describe("the job's bookkeeping", () => {
  it('outlasts any database outage: no attempt limit, no schedule-to-close bound, no error type that stops it, attempts of at most 30 s', () => {
    expect(BOOKKEEPING.scheduleToCloseTimeout).toBeUndefined();
    expect(BOOKKEEPING.scheduleToStartTimeout).toBeUndefined();
    expect(BOOKKEEPING.retry?.maximumAttempts).toBe(Number.POSITIVE_INFINITY);
    expect(BOOKKEEPING.retry?.nonRetryableErrorTypes).toBeUndefined();
    expect(BOOKKEEPING).toMatchObject({
      taskQueue: 'orchestrator',
      startToCloseTimeout: '30s',
      retry: { maximumInterval: '30s' },
    });
  });
});
