import { Cell, isFinalJobStatus, poolOf, type JobProgress, type TargetRef } from '@opsc/contracts';
import type { PoolLiveness } from './pool-liveness.js';

/**
 * The job's progress with its running targets whose executor pool has gone quiet named as waiting
 * for an executor of that pool: their actions sit on the pool's task queue, and nothing runs them.
 */
export const withPoolWaits = async (
  progress: JobProgress,
  tenantId: string,
  targets: readonly TargetRef[],
  pools: PoolLiveness | undefined,
): Promise<JobProgress> => {
  if (!pools || isFinalJobStatus(progress.status) || !targets.some((t) => t.pool)) return progress;
  const poolByName = new Map(targets.map((t) => [t.name, poolOf(t)]));
  const running = progress.targets.filter((_, i) => progress.matrix.some((row) => row[i] === Cell.running));
  const inUse = [...new Set(running.map((name) => poolByName.get(name)).filter((p): p is string => !!p))];
  if (!inUse.length) return progress;
  const quiet = await pools.quiet(tenantId, inUse);
  if (!quiet.size) return progress;
  const waiting = [...quiet].sort().map((pool) => ({
    pool,
    targets: running.filter((name) => poolByName.get(name) === pool),
  }));
  return { ...progress, waiting };
};
