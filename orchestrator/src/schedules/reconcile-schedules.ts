import type { Client } from '@temporalio/client';
import type pg from 'pg';
import type { Logger } from '@opsc/telemetry';
import { allSchedules } from './schedule-store.js';
import { deleteTemporalSchedule, reconciledDescription, temporalScheduleId } from './temporal-schedule.js';

/**
 * Makes Temporal's schedules agree with the record, at start: each live schedule is re-made if it
 * is missing or differs (after a Temporal reset, a change behind the API), and a Temporal schedule
 * of ours with no live record (a delete Temporal did not take) is deleted. One failure is logged
 * and the rest go on; reading a schedule reconciles it again.
 */
export const reconcileSchedules = async (deps: { pool: pg.Pool; client: Client; log: Logger }): Promise<void> => {
  const rows = await allSchedules(deps.pool);
  const live = new Set(rows.map(temporalScheduleId));
  let remade = 0;
  for (const row of rows) {
    try {
      const before = await deps.client.schedule
        .getHandle(temporalScheduleId(row))
        .describe()
        .catch(() => undefined);
      const after = await reconciledDescription(deps.client, row);
      if (!before || before.action.memo?.shape !== after.action.memo?.shape || before.state.paused !== row.paused)
        remade += 1;
    } catch (err) {
      deps.log.warn('schedule not reconciled', { scheduleId: row.id, error: (err as Error).message });
    }
  }
  let removed = 0;
  for await (const summary of deps.client.schedule.list()) {
    const m = /^opsc-schedule-([0-9a-f-]{36})-([0-9a-f-]{36})$/.exec(summary.scheduleId);
    if (!m || live.has(summary.scheduleId)) continue;
    await deleteTemporalSchedule(deps.client, { tenant_id: m[1]!, id: m[2]! }).then(
      () => (removed += 1),
      (err: unknown) => deps.log.warn('stale schedule not deleted', { error: (err as Error).message }),
    );
  }
  deps.log.info('schedules reconciled', { schedules: rows.length, remade, removed });
};
