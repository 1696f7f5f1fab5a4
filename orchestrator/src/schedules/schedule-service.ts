import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { CreateScheduleBody, PauseScheduleBody, UpdateScheduleBody } from '@opsc/contracts/api';
import { auditChange } from '../audit.js';
import { Conflict, InvalidInput, NotFound, Unavailable, uniqueNameOf } from '../errors.js';
import { atLeast, type Role } from '../identity/roles.js';
import type { Caller, JobDeps } from '../jobs/deps.js';
import { checkTemplateRun } from '../templates/run-template.js';
import { inTransaction, templateOf } from '../templates/template-store.js';
import { scheduleOf, type ScheduleRow } from './schedule-store.js';
import {
  applySchedule,
  deleteTemporalSchedule,
  reconciledDescription,
  temporalScheduleId,
} from './temporal-schedule.js';

export type ScheduleDeps = JobDeps & { minIntervalSeconds: number };

/** The owner must be an active user of the tenant whose role may run the version (as it is now). */
const checkOwner = async (db: pg.Pool, tenantId: string, ownerId: string, runRole: Role): Promise<void> => {
  const { rows } = await db.query<{ role: Role; disabled: boolean }>(
    'SELECT role, disabled FROM users WHERE id = $1 AND tenant_id = $2',
    [ownerId, tenantId],
  );
  const owner = rows[0];
  if (!owner) throw new InvalidInput('no such owner', [{ path: 'ownerId', message: 'no such user in this tenant' }]);
  if (owner.disabled) throw new InvalidInput('the owner is disabled', [{ path: 'ownerId', message: 'is disabled' }]);
  if (!atLeast(owner.role, runRole))
    throw new InvalidInput("the owner cannot run the template's version", [
      { path: 'ownerId', message: `is a ${owner.role}; the template's runs need the ${runRole} role` },
    ]);
};

interface Settings {
  templateId: string;
  templateVersion: number | null;
  params: Record<string, unknown>;
  ownerId: string;
  cronExpressions: string[];
  intervalSeconds: number | null;
}

/** What a saved schedule must hold: a runnable template run (checked like a run), an owner who may run it, a timing. */
const checkSettings = async (deps: ScheduleDeps, tenantId: string, s: Settings): Promise<void> => {
  if (s.cronExpressions.length === 0 && s.intervalSeconds === null)
    throw new InvalidInput('the schedule has no timing', [
      { path: 'cronExpressions', message: 'give cron expressions or an interval' },
    ]);
  if (s.intervalSeconds !== null && s.intervalSeconds < deps.minIntervalSeconds)
    throw new InvalidInput('the interval is too short', [
      { path: 'intervalSeconds', message: `must be at least ${deps.minIntervalSeconds} s` },
    ]);
  await templateOf(deps.pool, tenantId, s.templateId).catch(() => {
    throw new InvalidInput('no such template', [{ path: 'templateId', message: 'no such template' }]);
  });
  const v = await checkTemplateRun(deps, tenantId, s.templateId, {
    version: s.templateVersion ?? undefined,
    params: s.params,
  }).catch((err: unknown) => {
    if (err instanceof NotFound)
      throw new InvalidInput('no such template version', [{ path: 'templateVersion', message: 'no such version' }]);
    throw err;
  });
  await checkOwner(deps.pool, tenantId, s.ownerId, v.run_role);
};

const uniqueName = uniqueNameOf('schedule');

const audit = auditChange('schedule');

/** Temporal did not take the change: the transaction rolls back, so the record stays as it was. */
const inTemporal = async (work: Promise<void>): Promise<void> => {
  try {
    await work;
  } catch (err) {
    throw new Unavailable(`Temporal did not take the schedule: ${(err as Error).message.slice(0, 300)}`);
  }
};

/**
 * Changes the record and the Temporal schedule together: the row is written and audited in a
 * transaction that commits only once Temporal has taken the change.
 */
const change = async (
  deps: ScheduleDeps,
  caller: Caller,
  id: string,
  write: (db: pg.PoolClient) => Promise<void>,
  temporal: (row: ScheduleRow) => Promise<void>,
): Promise<ScheduleRow> => {
  await inTransaction(deps.pool, async (db) => {
    await write(db);
    const row = await scheduleOf(db, caller.tenantId, id).catch(() => undefined);
    await inTemporal(row ? temporal(row) : Promise.resolve());
  });
  return scheduleOf(deps.pool, caller.tenantId, id);
};

export const createSchedule = async (
  deps: ScheduleDeps,
  caller: Caller,
  body: CreateScheduleBody,
): Promise<ScheduleRow> => {
  const ownerId = body.ownerId ?? caller.userId;
  await checkSettings(deps, caller.tenantId, { ...body, ownerId });
  const id = randomUUID();
  return change(
    deps,
    caller,
    id,
    async (db) => {
      await db
        .query(
          `INSERT INTO schedules (id, tenant_id, name, description, template_id, template_version, params, owner_id,
             cron_expressions, interval_seconds, time_zone, overlap, catchup_window_seconds, paused, note, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
          [
            id,
            caller.tenantId,
            body.name,
            body.description,
            body.templateId,
            body.templateVersion,
            JSON.stringify(body.params),
            ownerId,
            body.cronExpressions,
            body.intervalSeconds,
            body.timeZone,
            body.overlap,
            body.catchupWindowSeconds,
            body.paused,
            body.note,
            caller.username,
          ],
        )
        .catch((err: unknown) => uniqueName(err, body.name));
      await audit(db, caller, 'schedule.create', id, {
        name: body.name,
        templateId: body.templateId,
        templateVersion: body.templateVersion,
        ownerId,
        cronExpressions: body.cronExpressions,
        intervalSeconds: body.intervalSeconds,
        timeZone: body.timeZone,
        overlap: body.overlap,
        catchupWindowSeconds: body.catchupWindowSeconds,
        paused: body.paused,
        // The names of the parameters set, never their values.
        params: Object.keys(body.params),
        temporalScheduleId: temporalScheduleId({ tenant_id: caller.tenantId, id }),
      });
    },
    (row) => applySchedule(deps.client, row),
  );
};

export const updateSchedule = async (
  deps: ScheduleDeps,
  caller: Caller,
  id: string,
  body: UpdateScheduleBody,
): Promise<ScheduleRow> => {
  const s = await scheduleOf(deps.pool, caller.tenantId, id);
  await checkSettings(deps, caller.tenantId, {
    templateId: s.template_id,
    templateVersion: body.templateVersion !== undefined ? body.templateVersion : s.template_version,
    params: body.params ?? s.params,
    ownerId: body.ownerId ?? s.owner_id,
    cronExpressions: body.cronExpressions ?? s.cron_expressions,
    intervalSeconds: body.intervalSeconds !== undefined ? body.intervalSeconds : s.interval_seconds,
  });
  const changed = Object.keys(body).filter((k) => body[k as keyof UpdateScheduleBody] !== undefined);
  return change(
    deps,
    caller,
    s.id,
    async (db) => {
      await db
        .query(
          `UPDATE schedules SET name = coalesce($2, name), description = coalesce($3, description),
             template_version = CASE WHEN $4 THEN $5::integer ELSE template_version END, params = coalesce($6, params),
             owner_id = coalesce($7, owner_id), cron_expressions = coalesce($8, cron_expressions),
             interval_seconds = CASE WHEN $9 THEN $10::integer ELSE interval_seconds END,
             time_zone = coalesce($11, time_zone), overlap = coalesce($12, overlap),
             catchup_window_seconds = coalesce($13, catchup_window_seconds), updated_at = now()
           WHERE id = $1`,
          [
            s.id,
            body.name ?? null,
            body.description ?? null,
            body.templateVersion !== undefined,
            body.templateVersion ?? null,
            body.params ? JSON.stringify(body.params) : null,
            body.ownerId ?? null,
            body.cronExpressions ?? null,
            body.intervalSeconds !== undefined,
            body.intervalSeconds ?? null,
            body.timeZone ?? null,
            body.overlap ?? null,
            body.catchupWindowSeconds ?? null,
          ],
        )
        .catch((err: unknown) => uniqueName(err, body.name ?? s.name));
      await audit(db, caller, 'schedule.update', s.id, { name: body.name ?? s.name, changed });
    },
    (row) => applySchedule(deps.client, row),
  );
};

export const deleteSchedule = async (deps: ScheduleDeps, caller: Caller, id: string): Promise<void> => {
  const s = await scheduleOf(deps.pool, caller.tenantId, id);
  await inTransaction(deps.pool, async (db) => {
    await db.query('UPDATE schedules SET deleted_at = now(), updated_at = now() WHERE id = $1', [s.id]);
    await audit(db, caller, 'schedule.delete', s.id, { name: s.name });
    await inTemporal(deleteTemporalSchedule(deps.client, s));
  });
};

export const pauseSchedule = async (
  deps: ScheduleDeps,
  caller: Caller,
  id: string,
  paused: boolean,
  body: PauseScheduleBody,
): Promise<ScheduleRow> => {
  const s = await scheduleOf(deps.pool, caller.tenantId, id);
  const note = body.note ?? (paused ? `paused by ${caller.username}` : '');
  return change(
    deps,
    caller,
    s.id,
    async (db) => {
      await db.query('UPDATE schedules SET paused = $2, note = $3, updated_at = now() WHERE id = $1', [
        s.id,
        paused,
        note,
      ]);
      await audit(db, caller, paused ? 'schedule.pause' : 'schedule.resume', s.id, { name: s.name, note });
    },
    async (row) => {
      const handle = deps.client.schedule.getHandle(temporalScheduleId(row));
      // A Temporal schedule lost meanwhile is made again, in the new state.
      await (paused ? handle.pause(note || undefined) : handle.unpause(note || undefined)).catch(() =>
        applySchedule(deps.client, row),
      );
    },
  );
};

/** One action now (Temporal's trigger): the same path as a timed one, whatever the overlap policy. */
export const triggerSchedule = async (deps: ScheduleDeps, caller: Caller, id: string): Promise<ScheduleRow> => {
  const s = await scheduleOf(deps.pool, caller.tenantId, id);
  if (s.paused) throw new Conflict('the schedule is paused; resume it first');
  await inTransaction(deps.pool, async (db) => {
    await audit(db, caller, 'schedule.trigger', s.id, { name: s.name });
    // A Temporal schedule lost meanwhile is made again first.
    await inTemporal(
      reconciledDescription(deps.client, s).then(() => deps.client.schedule.getHandle(temporalScheduleId(s)).trigger()),
    );
  });
  return s;
};
