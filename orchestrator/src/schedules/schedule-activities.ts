import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ScheduleNotFoundError, WorkflowNotFoundError } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { RunScheduleInput, ScheduleActivities, ScheduledStart } from '@opsc/contracts';
import { recordAudit } from '../audit.js';
import { DomainError } from '../errors.js';
import type { Role } from '../identity/roles.js';
import type { Caller, JobDeps } from '../jobs/deps.js';
import { controlJob } from '../jobs/job-control.js';
import { JobExists } from '../jobs/submit-job.js';
import { runTemplate } from '../templates/run-template.js';
import { findSchedule, insertRun, runOf, type ScheduleRow } from './schedule-store.js';
import { actionWorkflowPrefix, temporalScheduleId } from './temporal-schedule.js';

/** Set by Temporal on a workflow its schedule started: when the action was due. */
const SCHEDULED_AT = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

/**
 * The job id of an action: derived from the action's workflow id, so every attempt of its start
 * (a retry after a crash, a second attempt racing a slow first) names the same job, and the jobs
 * table's key lets one of them exist. UUID-shaped like every job id (`job-<uuid>`).
 */
export const scheduledJobId = (actionId: string): string => {
  const h = createHash('sha256').update(`opsc-schedule-action:${actionId}`).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `job-${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

const ownerCaller = async (deps: JobDeps, s: ScheduleRow): Promise<Caller | string> => {
  const { rows } = await deps.pool.query<{ role: Role; disabled: boolean; username: string }>(
    'SELECT role, disabled, username FROM users WHERE id = $1 AND tenant_id = $2',
    [s.owner_id, s.tenant_id],
  );
  const owner = rows[0];
  if (!owner || owner.disabled) return `the schedule's owner ${s.owner_username} is disabled`;
  return { tenantId: s.tenant_id, userId: s.owner_id, username: owner.username, role: owner.role, sourceIp: undefined };
};

/** How long an action the schedule does not list yet is asked about again before it counts as forged. */
const LISTING_GRACE_MS = 15_000;

export const createScheduleActivities = (deps: JobDeps) => {
  /**
   * Whether the schedule's Temporal schedule took this action: its id is the schedule's, and the
   * schedule lists it among its running or latest actions. A workflow started straight in Temporal
   * with the same id pattern (or even Temporal's `TemporalScheduledById` attribute, which a client
   * can set) is not there.
   */
  const listedBySchedule = async (s: ScheduleRow, actionId: string): Promise<boolean> => {
    const d = await deps.client.schedule
      .getHandle(temporalScheduleId(s))
      .describe()
      .catch((err: unknown) => {
        if (err instanceof ScheduleNotFoundError) return undefined;
        throw err;
      });
    if (!d) return false;
    return [...d.info.runningActions, ...d.info.recentActions.map((a) => a.action)].some(
      (a) => a.workflow.workflowId === actionId,
    );
  };

  /**
   * Temporal's schedule lists an action a moment after starting it (and under load, later): an
   * action not listed yet is asked about again for `LISTING_GRACE_MS` before it is refused.
   */
  const takenBySchedule = async (s: ScheduleRow, actionId: string): Promise<boolean> => {
    if (!actionId.startsWith(`${actionWorkflowPrefix(s.id)}-`)) return false;
    const ctx = Context.current();
    const deadline = Date.now() + LISTING_GRACE_MS;
    for (;;) {
      if (await listedBySchedule(s, actionId)) return true;
      if (Date.now() >= deadline) return false;
      ctx.heartbeat();
      await ctx.sleep(500);
    }
  };

  const audit = (s: ScheduleRow, action: string, actor: string, details: Record<string, unknown>) =>
    recordAudit(deps.pool, {
      tenantId: s.tenant_id,
      actor,
      action,
      objectType: 'schedule',
      objectId: s.id,
      ...(typeof details.jobId === 'string' && { jobId: details.jobId }),
      details: { name: s.name, ...details },
    });

  /** The run's record and its audit entry; a refusal is final (the activity returns, it does not retry). */
  const settle = async (
    s: ScheduleRow,
    actionId: string,
    scheduledAt: Date | null,
    start: ScheduledStart,
    details: Record<string, unknown> = {},
  ): Promise<ScheduledStart> => {
    await insertRun(deps.pool, {
      action_id: actionId,
      schedule_id: s.id,
      tenant_id: s.tenant_id,
      scheduled_at: scheduledAt,
      outcome: start.outcome,
      job_id: start.jobId,
      reason: start.reason,
    });
    await audit(s, start.outcome === 'started' ? 'schedule.fire' : 'schedule.refused', s.owner_username, {
      actionId,
      jobId: start.jobId,
      reason: start.reason,
      ...details,
    });
    return start;
  };

  const startScheduledJob = async (input: RunScheduleInput): Promise<ScheduledStart> => {
    const actionId = Context.current().info.workflowExecution?.workflowId;
    if (!actionId) return { outcome: 'refused', jobId: null, reason: 'started by its workflow only' };
    const done = await runOf(deps.pool, actionId);
    if (done) return { outcome: done.outcome, jobId: done.job_id, reason: done.reason };
    const s = await findSchedule(deps.pool, input.scheduleId);
    const refused = (reason: string): ScheduledStart => ({ outcome: 'refused', jobId: null, reason });
    // Only the schedule's own actions run it: the workflow id is the schedule's, and Temporal says its schedule started it.
    if (!s || s.tenant_id !== input.tenantId) {
      deps.log.warn('scheduled action of no schedule', { actionId, scheduleId: input.scheduleId.slice(0, 100) });
      return refused('no such schedule (deleted)');
    }
    const described = await deps.client.workflow.getHandle(actionId).describe();
    const scheduledAt = described.typedSearchAttributes.get(SCHEDULED_AT) ?? null;
    if (!(await takenBySchedule(s, actionId)))
      return settle(s, actionId, scheduledAt, refused('the action was not started by the schedule'), {
        forged: true,
      });
    // An earlier attempt made the action's job and stopped before recording it: that job is the action's.
    const jobId = scheduledJobId(actionId);
    if ((await deps.pool.query('SELECT 1 FROM jobs WHERE id = $1', [jobId])).rowCount)
      return settle(s, actionId, scheduledAt, { outcome: 'started', jobId, reason: null }, { recovered: true });
    if (s.paused) return settle(s, actionId, scheduledAt, refused('the schedule is paused'));
    const caller = await ownerCaller(deps, s);
    if (typeof caller === 'string') return settle(s, actionId, scheduledAt, refused(caller));
    try {
      const run = await runTemplate(
        deps,
        caller,
        s.template_id,
        { version: s.template_version ?? undefined, params: s.params, jobId },
        { kind: 'schedule', scheduleId: s.id },
      );
      return await settle(
        s,
        actionId,
        scheduledAt,
        { outcome: 'started', jobId: run.job.id, reason: null },
        {
          templateId: run.template.id,
          version: run.template.version,
          preApproved: run.preApproval.applied,
        },
      );
    } catch (err) {
      // An earlier attempt of this action made the job: that one is the action's, and no second starts.
      if (err instanceof JobExists)
        return settle(
          s,
          actionId,
          scheduledAt,
          { outcome: 'started', jobId: err.jobId, reason: null },
          {
            recovered: true,
          },
        );
      if (!(err instanceof DomainError)) throw err;
      const exists = await deps.pool.query('SELECT 1 FROM jobs WHERE id = $1', [jobId]);
      return settle(s, actionId, scheduledAt, {
        outcome: 'refused',
        jobId: exists.rowCount ? jobId : null,
        reason: err.message,
      });
    }
  };

  const awaitScheduledJob = async ({ jobId }: { jobId: string }): Promise<void> => {
    const ctx = Context.current();
    for (;;) {
      ctx.heartbeat();
      const closed = await deps.client.workflow
        .getHandle(jobId)
        .describe()
        .then(
          (d) => d.status.name !== 'RUNNING',
          (err: unknown) => {
            if (err instanceof WorkflowNotFoundError) return true;
            throw err;
          },
        );
      if (closed) return;
      await ctx.sleep(5_000);
    }
  };

  const cancelScheduledJob = async (input: RunScheduleInput & { jobId: string }): Promise<void> => {
    const s = await findSchedule(deps.pool, input.scheduleId);
    if (!s || s.tenant_id !== input.tenantId) return;
    const caller = await ownerCaller(deps, s);
    if (typeof caller === 'string') return;
    try {
      await controlJob(deps, caller, input.jobId, 'cancel', {
        comment: `schedule "${s.name}": a newer action cancelled it (overlap policy cancel_other)`,
      });
    } catch (err) {
      // A job that has finished meanwhile, or refuses the cancel, is left as it is.
      if (!(err instanceof DomainError)) throw err;
      deps.log.info('scheduled job not cancelled', { jobId: input.jobId, reason: err.message });
    }
  };

  return { startScheduledJob, awaitScheduledJob, cancelScheduledJob } satisfies ScheduleActivities;
};
