import { z } from 'zod';
import { TaskQueue } from './task-queues.js';

/**
 * Executor pools: a target (or a group, for its targets) may name the pool of executors that runs
 * its actions, e.g. the executors of a site behind a firewall, which dial out to Temporal. Each pool
 * has its own task queue; `executor` is the default pool, whose queue keeps its old name.
 */
export const DEFAULT_POOL = 'executor';

export const PoolName = z.string().regex(/^[a-z][a-z0-9-]{0,30}[a-z0-9]$|^[a-z]$/, {
  message: 'lower-case letters, digits and -, starting with a letter (at most 32)',
});

/**
 * The task queue of a pool's executors for one tenant. A named pool is the tenant's own: another
 * tenant naming a pool of the same name reaches other queues, which its executors do not serve.
 * The default pool's queue is shared, and keeps its old name.
 */
export const executorQueue = (pool: string | undefined, tenantId: string): string =>
  !pool || pool === DEFAULT_POOL ? TaskQueue.executor : `${TaskQueue.executor}.pool.${tenantId}.${pool}`;

/** Methods that act on an inventory target: they run in the target's pool. The others run in the default pool. */
export const TARGET_METHODS: ReadonlySet<string> = new Set(['ssh', 'winrm', 'database']);

/** The pool an action on a target runs in: the target's for remote methods, else the default pool's. */
export const actionPool = (method: string, target: { pool?: string | undefined }): string =>
  TARGET_METHODS.has(method) ? poolOf(target) : DEFAULT_POOL;

/** The pool a recorded target runs in (absent: the default pool). */
export const poolOf = (target: { pool?: string | undefined }): string => target.pool ?? DEFAULT_POOL;

/**
 * The pool a target runs in: its own, else the one its groups name (a group's pool applies to the
 * targets in it and in its child groups). Groups that name different pools leave it undecided:
 * `conflict` lists them, and the target must name its own.
 */
export const effectivePool = (
  own: string | null | undefined,
  fromGroups: readonly string[],
): {
  pool: string;
  conflict?: string[];
} => {
  if (own) return { pool: own };
  const named = [...new Set(fromGroups)].sort();
  if (named.length > 1) return { pool: DEFAULT_POOL, conflict: named };
  return { pool: named[0] ?? DEFAULT_POOL };
};

/** Why a step may not run on targets of pools no executor serves now, one message per pool. */
export const quietPoolIssues = (
  targets: readonly { name: string; executorPool?: string | undefined }[],
  quiet: ReadonlySet<string>,
): string[] => {
  const byPool = new Map<string, string[]>();
  for (const t of targets) {
    const pool = t.executorPool ?? DEFAULT_POOL;
    if (quiet.has(pool)) byPool.set(pool, [...(byPool.get(pool) ?? []), t.name]);
  }
  return [...byPool].map(([pool, names]) => {
    const shown = names.slice(0, 5).join(', ') + (names.length > 5 ? ` and ${names.length - 5} more` : '');
    return `no executor of pool "${pool}" is polling (${shown}): start one with EXECUTOR_POOL=${pool}, or move the targets to a served pool`;
  });
};
