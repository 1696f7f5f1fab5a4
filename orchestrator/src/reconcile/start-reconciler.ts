import { reconcileJobs, type ReconcileDeps } from './reconcile-jobs.js';

/** The wait before the next pass: the interval give or take a quarter, so several orchestrators drift apart. */
export const jitteredDelayMs = (intervalSeconds: number, random: () => number = Math.random): number =>
  Math.round(intervalSeconds * 1000 * (0.75 + random() * 0.5));

/**
 * Runs `reconcileJobs` every `intervalSeconds` (jittered) until `stop()`, which waits for a pass in
 * progress. A failed pass (database or Temporal away) is logged and the next one tries again.
 */
export const startReconciler = (deps: ReconcileDeps, intervalSeconds: number): { stop(): Promise<void> } => {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const schedule = (ms: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = reconcileJobs(deps)
        .catch((err: unknown) =>
          deps.log.warn('reconciliation pass failed; the next one tries again', { error: (err as Error).message }),
        )
        .then(() => schedule(jitteredDelayMs(intervalSeconds)));
    }, ms);
  };
  // The first pass soon after start: jobs orphaned while no orchestrator ran are the likeliest.
  schedule(jitteredDelayMs(Math.min(intervalSeconds, 5)));
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
};
