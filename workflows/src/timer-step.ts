import { condition, isCancellation } from '@temporalio/workflow';
import { ErrorType, type TimerAction } from '@opsc/contracts';
import type { Outcome } from './run-step.js';

/**
 * A `wait` step: a durable timer of the workflow itself (no activity, nothing on a target), so the
 * pause outlives a worker restart and Temporal's time-skipping test server skips it. It ends early,
 * as cancelled, when the job is stopped (a cancel of either mode: nothing is in flight to finish)
 * or when the step's scope is cancelled (an interrupting cancel, a cancel through Temporal).
 * Only steps of the `timer` method come here, which no earlier recorded job has: old histories
 * replay the code they took.
 */
export const runTimer = async (action: TimerAction, stopped: () => boolean): Promise<Outcome> => {
  const began = Date.now();
  const cancelled = (): Outcome => ({
    ok: false,
    error: {
      type: ErrorType.Cancelled,
      message: `cancelled after ${Math.round((Date.now() - began) / 1000)} s of the ${action.seconds} s wait`,
    },
    durationMs: Date.now() - began,
  });
  if (stopped()) return cancelled();
  try {
    // The timeout is a Temporal timer; the condition lets a stop end the wait before it fires.
    const stoppedEarly = await condition(stopped, action.seconds * 1000);
    return stoppedEarly ? cancelled() : { ok: true, durationMs: Date.now() - began };
  } catch (err) {
    if (!isCancellation(err)) throw err;
    return cancelled();
  }
};

/** The log line of a wait that ran its course. */
export const describeTimer = (action: TimerAction): string => `waited ${action.seconds} s`;
