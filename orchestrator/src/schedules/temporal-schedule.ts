import { createHash } from 'node:crypto';
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
  type ScheduleOptions,
} from '@temporalio/client';
import { RUN_SCHEDULE_WORKFLOW, TaskQueue, type RunScheduleInput, type ScheduleOverlap } from '@opsc/contracts';
import { SearchAttribute } from '@opsc/contracts/temporal';
import type { ScheduleRow } from './schedule-store.js';

/** The Temporal schedule's id: the tenant and the schedule's own id. */
export const temporalScheduleId = (row: Pick<ScheduleRow, 'tenant_id' | 'id'>): string =>
  `opsc-schedule-${row.tenant_id}-${row.id}`;

/** The id each action's workflow starts with; Temporal appends the action's time (`-2026-01-31T12:00:00Z`). */
export const actionWorkflowPrefix = (scheduleId: string): string => `schedule-${scheduleId}`;

const OVERLAP: Record<ScheduleOverlap, ScheduleOverlapPolicy> = {
  skip: ScheduleOverlapPolicy.SKIP,
  buffer_one: ScheduleOverlapPolicy.BUFFER_ONE,
  buffer_all: ScheduleOverlapPolicy.BUFFER_ALL,
  allow_all: ScheduleOverlapPolicy.ALLOW_ALL,
  cancel_other: ScheduleOverlapPolicy.CANCEL_OTHER,
  terminate_other: ScheduleOverlapPolicy.TERMINATE_OTHER,
};

/**
 * What the Temporal schedule is made of: ids, names and the timing only. The parameters' values
 * never go to Temporal (memo, search attributes or arguments): the action reads them from PostgreSQL.
 */
const shape = (row: ScheduleRow) => ({
  spec: {
    ...(row.cron_expressions.length > 0 && { cronExpressions: row.cron_expressions }),
    ...(row.interval_seconds !== null && { intervals: [{ every: row.interval_seconds * 1000 }] }),
    timezone: row.time_zone,
  },
  overlap: OVERLAP[row.overlap],
  catchupWindow: row.catchup_window_seconds * 1000,
});

/** A digest of the shape, kept in the action's memo: a Temporal schedule whose digest differs is re-made. */
export const shapeDigest = (row: ScheduleRow): string =>
  createHash('sha256')
    .update(JSON.stringify(shape(row)))
    .digest('hex')
    .slice(0, 32);

const searchAttributes = (row: ScheduleRow) => [
  { key: SearchAttribute.tenant, value: row.tenant_id },
  { key: SearchAttribute.origin, value: `schedule:${row.id}` },
];

const action = (row: ScheduleRow): ScheduleOptions['action'] => {
  const input: RunScheduleInput = { tenantId: row.tenant_id, scheduleId: row.id };
  return {
    type: 'startWorkflow',
    workflowType: RUN_SCHEDULE_WORKFLOW,
    workflowId: actionWorkflowPrefix(row.id),
    taskQueue: TaskQueue.orchestrator,
    args: [input],
    memo: { schedule: row.name, shape: shapeDigest(row) },
    typedSearchAttributes: searchAttributes(row),
  };
};

const optionsOf = (row: ScheduleRow): ScheduleOptions => {
  const { spec, overlap, catchupWindow } = shape(row);
  return {
    scheduleId: temporalScheduleId(row),
    spec,
    action: action(row),
    policies: { overlap, catchupWindow, pauseOnFailure: false },
    state: { paused: row.paused, ...(row.note && { note: row.note }) },
    memo: { name: row.name, templateId: row.template_id, templateVersion: row.template_version ?? 'latest' },
    typedSearchAttributes: searchAttributes(row),
  };
};

/** Makes the Temporal schedule as the record says it is: created when missing, updated otherwise. */
export const applySchedule = async (client: Client, row: ScheduleRow): Promise<void> => {
  const options = optionsOf(row);
  try {
    await client.schedule.create(options);
    return;
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  await client.schedule.getHandle(options.scheduleId).update(() => ({
    spec: options.spec,
    action: options.action,
    policies: options.policies,
    state: options.state ?? {},
    typedSearchAttributes: options.typedSearchAttributes,
  }));
};

export const deleteTemporalSchedule = async (
  client: Client,
  row: Pick<ScheduleRow, 'tenant_id' | 'id'>,
): Promise<void> => {
  await client.schedule
    .getHandle(temporalScheduleId(row))
    .delete()
    .catch((err: unknown) => {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    });
};

/** Whether Temporal's schedule is the record's: same shape digest, same paused state. */
const agrees = (row: ScheduleRow, d: ScheduleDescription): boolean =>
  d.action.memo?.shape === shapeDigest(row) && d.state.paused === row.paused;

/**
 * The Temporal schedule as it is, after making it agree with the record (PostgreSQL is the
 * record: a schedule lost in a Temporal reset, or changed behind the API, is re-made).
 */
export const reconciledDescription = async (client: Client, row: ScheduleRow): Promise<ScheduleDescription> => {
  const handle = client.schedule.getHandle(temporalScheduleId(row));
  const d = await handle.describe().catch((err: unknown) => {
    if (err instanceof ScheduleNotFoundError) return undefined;
    throw err;
  });
  if (d && agrees(row, d)) return d;
  await applySchedule(client, row);
  return handle.describe();
};
