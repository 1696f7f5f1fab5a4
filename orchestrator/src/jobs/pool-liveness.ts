import type { Client } from '@temporalio/client';
import { DEFAULT_POOL, executorQueue } from '@opsc/contracts';
import { withTimeout } from '../with-timeout.js';

/**
 * Which executor pools have an executor polling now, from Temporal's description of each pool's
 * task queue (its pollers and when each last asked for work). The default pool is never reported
 * quiet: the stack's own executor serves it, and a job for it waits while that executor restarts.
 */
export interface PoolLiveness {
  /** Of these pools, the ones no executor has polled within the freshness window. */
  quiet(pools: readonly string[]): Promise<ReadonlySet<string>>;
}

export interface PoolLivenessOptions {
  /**
   * A poller last seen longer ago than this is gone. An idle executor asks again at least every
   * minute (Temporal's long poll); an executor with every slot busy does not ask until one frees.
   */
  freshSeconds: number;
  /** A served pool's answer is kept this long, so a busy API asks Temporal once per pool per window. */
  cacheMs?: number;
  /** Temporal unreachable or slow: the pool counts as served (the job waits), and this hears why. */
  onError?: (pool: string, err: unknown) => void;
  now?: () => number;
}

// Temporal's enums TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY and TaskQueueKind.TASK_QUEUE_KIND_NORMAL.
const ACTIVITY_QUEUE = 2;
const NORMAL_QUEUE = 1;

const millisOf = (t: { seconds?: unknown; nanos?: number | null } | null | undefined): number =>
  t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : 0;

export const createPoolLiveness = (client: Client, namespace: string, options: PoolLivenessOptions): PoolLiveness => {
  const now = options.now ?? Date.now;
  const cacheMs = options.cacheMs ?? 5_000;
  const known = new Map<string, { at: number; polled: Promise<boolean> }>();

  const polledRecently = async (pool: string): Promise<boolean> => {
    try {
      const answer = await withTimeout(
        client.workflowService.describeTaskQueue({
          namespace,
          taskQueue: { name: executorQueue(pool), kind: NORMAL_QUEUE },
          taskQueueType: ACTIVITY_QUEUE,
        }),
        3_000,
        `the description of pool ${pool}'s task queue`,
      );
      const since = now() - options.freshSeconds * 1000;
      return (answer.pollers ?? []).some((p) => millisOf(p.lastAccessTime) >= since);
    } catch (err) {
      options.onError?.(pool, err);
      return true;
    }
  };

  return {
    async quiet(pools) {
      const named = [...new Set(pools)].filter((p) => p !== DEFAULT_POOL);
      const answers = await Promise.all(
        named.map(async (pool) => {
          let entry = known.get(pool);
          // A served pool is remembered a few seconds; a quiet one is asked again each time, so an
          // executor that has just started is seen at once.
          if (!entry || now() - entry.at > cacheMs || !(await entry.polled)) {
            entry = { at: now(), polled: polledRecently(pool) };
            known.set(pool, entry);
            if (known.size > 1_000) known.delete(known.keys().next().value!);
          }
          return [pool, await entry.polled] as const;
        }),
      );
      return new Set(answers.filter(([, polled]) => !polled).map(([pool]) => pool));
    },
  };
};
