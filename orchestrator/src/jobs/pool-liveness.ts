import type { Client } from '@temporalio/client';
import type pg from 'pg';
import { DEFAULT_POOL, executorQueue } from '@opsc/contracts';
import { withTimeout } from '../with-timeout.js';

/**
 * Which of a tenant's executor pools have an executor now. A pool is served while Temporal lists a
 * poller of its queue that asked for work within the freshness window, or while one of its
 * executors says it runs (`executor_programs.seen_at`, every few seconds, busy or not: an executor
 * with every slot taken does not poll). The default pool is never reported quiet: the stack's own
 * executor serves it, and a job for it waits while that executor restarts.
 */
export interface PoolLiveness {
  /**
   * Of these pools of the tenant, the ones no executor serves now. `fresh`: a quiet pool is asked
   * about again rather than answered from the last second's answer (before refusing a job).
   */
  quiet(tenantId: string, pools: readonly string[], options?: { fresh?: boolean }): Promise<ReadonlySet<string>>;
}

export interface PoolLivenessOptions {
  /** A poller last seen, or an executor last heard of, longer ago than this is gone. */
  freshSeconds: number;
  /** A served pool's answer is kept this long; a quiet one's for a second (`fresh`: not at all). */
  cacheMs?: number;
  /** Temporal and the database unreachable or slow: the pool counts as served (the job waits), and this hears why. */
  onError?: (pool: string, err: unknown) => void;
  now?: () => number;
}

// Temporal's enums TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY and TaskQueueKind.TASK_QUEUE_KIND_NORMAL.
const ACTIVITY_QUEUE = 2;
const NORMAL_QUEUE = 1;
const QUIET_CACHE_MS = 1_000;
const MAX_ENTRIES = 1_000;

const millisOf = (t: { seconds?: unknown; nanos?: number | null } | null | undefined): number =>
  t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : 0;

export const createPoolLiveness = (
  client: Client,
  db: pg.Pool,
  namespace: string,
  options: PoolLivenessOptions,
): PoolLiveness => {
  const now = options.now ?? Date.now;
  const cacheMs = options.cacheMs ?? 5_000;
  /** One answer per (tenant, pool): callers within its window share it, including one still being asked. */
  const known = new Map<string, { at: number; served: Promise<boolean>; settled?: boolean }>();

  const polled = async (tenantId: string, pool: string): Promise<boolean> => {
    const answer = await withTimeout(
      client.workflowService.describeTaskQueue({
        namespace,
        taskQueue: { name: executorQueue(pool, tenantId), kind: NORMAL_QUEUE },
        taskQueueType: ACTIVITY_QUEUE,
      }),
      3_000,
      `the description of pool ${pool}'s task queue`,
    );
    const since = now() - options.freshSeconds * 1000;
    return (answer.pollers ?? []).some((p) => millisOf(p.lastAccessTime) >= since);
  };
  const heardOf = async (tenantId: string, pool: string): Promise<boolean> => {
    const { rows } = await withTimeout(
      db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM executor_programs
          WHERE pool = $1 AND $2 = ANY(tenant_ids) AND seen_at > now() - make_interval(secs => $3)`,
        [pool, tenantId, options.freshSeconds],
      ),
      3_000,
      `the executors of pool ${pool}`,
    );
    return rows[0]!.n > 0;
  };
  const served = async (tenantId: string, pool: string): Promise<boolean> => {
    try {
      return (await polled(tenantId, pool)) || (await heardOf(tenantId, pool));
    } catch (err) {
      options.onError?.(pool, err);
      return true;
    }
  };

  return {
    async quiet(tenantId, pools, asked = {}) {
      const named = [...new Set(pools)].filter((p) => p !== DEFAULT_POOL);
      const answers = await Promise.all(
        named.map(async (pool) => {
          const key = `${tenantId}/${pool}`;
          let entry = known.get(key);
          const age = entry ? now() - entry.at : Infinity;
          // A served answer is kept a few seconds (a job then waits if the pool went). A quiet one a
          // second for readers, but asked again for a refusal: an executor started a moment ago is seen.
          const stale =
            !entry ||
            (entry.settled && ((await entry.served) ? age > cacheMs : asked.fresh === true || age > QUIET_CACHE_MS));
          if (stale) {
            const fresh: { at: number; served: Promise<boolean>; settled?: boolean } = {
              at: now(),
              served: served(tenantId, pool),
            };
            void fresh.served.then(() => (fresh.settled = true));
            entry = fresh;
            known.delete(key);
            known.set(key, entry);
            if (known.size > MAX_ENTRIES) known.delete(known.keys().next().value!);
          }
          return [pool, await entry!.served] as const;
        }),
      );
      return new Set(answers.filter(([, ok]) => !ok).map(([pool]) => pool));
    },
  };
};
