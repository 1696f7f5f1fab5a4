import type { Client, ScheduleDescription } from '@temporalio/client';
import type pg from 'pg';
import type { ScheduleRun, ScheduleView, Sent } from '@opsc/contracts/api';
import type { Logger } from '@opsc/telemetry';
import { withTimeout } from '../with-timeout.js';
import { recentRuns, type ScheduleRow } from './schedule-store.js';
import { reconciledDescription, temporalScheduleId } from './temporal-schedule.js';

/** How many next run times an answer shows. */
const NEXT_RUNS = 5;

/** Temporal's description after reconciling; undefined when Temporal does not answer in time. */
const described = async (
  deps: { client: Client; log: Logger },
  row: ScheduleRow,
): Promise<ScheduleDescription | undefined> => {
  try {
    return await withTimeout(reconciledDescription(deps.client, row), 10_000, 'describing the schedule');
  } catch (err) {
    deps.log.warn('schedule not described', { scheduleId: row.id, error: (err as Error).message });
    return undefined;
  }
};

/** Actions Temporal took whose start has not been recorded yet: shown as pending. */
const pendingRuns = (d: ScheduleDescription | undefined, recorded: Set<string>): Sent<ScheduleRun>[] =>
  (d?.info.recentActions ?? [])
    .filter((a) => !recorded.has(a.action.workflow.workflowId))
    .map((a) => ({
      actionId: a.action.workflow.workflowId,
      scheduledAt: a.scheduledAt,
      startedAt: a.takenAt,
      outcome: 'pending' as const,
      jobId: null,
      reason: null,
    }))
    .reverse();

/** The answer for one schedule: the record, Temporal's next run times, and the latest actions with their jobs. */
export const scheduleView = async (
  deps: { pool: pg.Pool; client: Client; log: Logger },
  row: ScheduleRow,
): Promise<Sent<ScheduleView>> => {
  const [d, runs] = await Promise.all([described(deps, row), recentRuns(deps.pool, row.id)]);
  const pending = pendingRuns(d, new Set(runs.map((r) => String(r.actionId))));
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    template: { id: row.template_id, name: row.template_name },
    templateVersion: row.template_version,
    params: row.params,
    owner: { id: row.owner_id, username: row.owner_username, disabled: row.owner_disabled },
    cronExpressions: row.cron_expressions,
    intervalSeconds: row.interval_seconds,
    timeZone: row.time_zone,
    overlap: row.overlap,
    catchupWindowSeconds: row.catchup_window_seconds,
    paused: row.paused,
    note: row.note,
    temporal: { scheduleId: temporalScheduleId(row), state: d ? 'ok' : 'unreachable' },
    nextRuns: row.paused ? [] : (d?.info.nextActionTimes.slice(0, NEXT_RUNS) ?? []),
    recentRuns: [...pending, ...runs].slice(0, 20),
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
};
