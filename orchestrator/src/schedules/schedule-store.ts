import type pg from 'pg';
import type { ScheduleOverlap } from '@opsc/contracts';
import type { ScheduleRun } from '@opsc/contracts/api';
import type { Sent } from '@opsc/contracts/api';
import { templateBoundStore } from '../templates/template-bound-store.js';

export interface ScheduleRow {
  id: string;
  tenant_id: string;
  name: string;
  description: string;
  template_id: string;
  template_name: string;
  template_version: number | null;
  params: Record<string, unknown>;
  owner_id: string;
  owner_username: string;
  owner_disabled: boolean;
  cron_expressions: string[];
  interval_seconds: number | null;
  time_zone: string;
  overlap: ScheduleOverlap;
  catchup_window_seconds: number;
  paused: boolean;
  note: string;
  created_by: string;
  created_at: Date;
  updated_at: Date;
}

export interface RunRow {
  action_id: string;
  schedule_id: string;
  scheduled_at: Date | null;
  started_at: Date;
  outcome: 'started' | 'refused';
  job_id: string | null;
  reason: string | null;
}

type Db = pg.Pool | pg.PoolClient;

const store = templateBoundStore<ScheduleRow>('schedules', 'schedule', 500);
/** A live schedule by id alone; undefined for any other id. */
export const findSchedule = store.find;
/** A live schedule of the tenant; another tenant's, a deleted one or a malformed id is not found alike. */
export const scheduleOf = store.of;
export const schedulesOf = store.list;

/** Every live schedule, of every tenant: what the Temporal schedules are made from at start. */
export const allSchedules = store.all;

export const runOf = async (db: Db, actionId: string): Promise<RunRow | undefined> =>
  (await db.query<RunRow>('SELECT * FROM schedule_runs WHERE action_id = $1', [actionId])).rows[0];

/** Actions are kept this long (the view shows the latest 20). */
const KEEP_DAYS = 90;

export const insertRun = async (db: Db, run: Omit<RunRow, 'started_at'> & { tenant_id: string }): Promise<void> => {
  await db.query(
    `INSERT INTO schedule_runs (action_id, schedule_id, tenant_id, scheduled_at, outcome, job_id, reason)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (action_id) DO NOTHING`,
    [
      run.action_id,
      run.schedule_id,
      run.tenant_id,
      run.scheduled_at,
      run.outcome,
      run.job_id,
      run.reason?.slice(0, 1000) ?? null,
    ],
  );
  await db.query(
    'DELETE FROM schedule_runs WHERE schedule_id = $1 AND started_at < now() - make_interval(days => $2)',
    [run.schedule_id, KEEP_DAYS],
  );
};

export const recentRuns = async (db: Db, scheduleId: string): Promise<Sent<ScheduleRun>[]> =>
  (
    await db.query<RunRow>(
      'SELECT * FROM schedule_runs WHERE schedule_id = $1 ORDER BY started_at DESC, action_id LIMIT 20',
      [scheduleId],
    )
  ).rows.map((r) => ({
    actionId: r.action_id,
    scheduledAt: r.scheduled_at,
    startedAt: r.started_at,
    outcome: r.outcome,
    jobId: r.job_id,
    reason: r.reason,
  }));
