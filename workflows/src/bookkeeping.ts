import type { ActivityOptions } from '@temporalio/workflow';
import { TaskQueue } from '@opsc/contracts';

/**
 * How the workflow writes the job's own records on the orchestrator queue (status, verdicts,
 * events, a refused decision, the ETA lookup, the start check): each attempt ends within 30 s, so a
 * query hung on a dead connection is tried again on a fresh one, and there is no attempt limit and
 * no schedule-to-close bound. A database away for ten minutes, or an hour, delays a record; it never
 * fails the job, and no undo waits for it (see `RecordsQueue.record`).
 */
export const BOOKKEEPING: ActivityOptions = {
  taskQueue: TaskQueue.orchestrator,
  startToCloseTimeout: '30s',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    maximumAttempts: Number.POSITIVE_INFINITY,
  },
};
