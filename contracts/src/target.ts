import { z } from 'zod';
import { PoolName } from './executor-pools.js';

/**
 * A reference to where an action runs. Never carries an address's credentials: the executor
 * resolves those itself. `executor` is the executor worker's own host (local commands, HTTP calls).
 */
export const TargetRef = z.object({
  id: z.string().min(1).max(200),
  name: z.string().min(1).max(200),
  /** The executor pool that runs its actions, fixed when the job was created; absent: the default pool. */
  pool: PoolName.optional(),
});
export type TargetRef = z.infer<typeof TargetRef>;

/** The executor worker itself: where `local-command` and `http` actions originate. */
export const EXECUTOR_TARGET: TargetRef = { id: 'executor', name: 'executor' };
