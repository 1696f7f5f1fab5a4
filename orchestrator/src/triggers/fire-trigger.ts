import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { applyMapping, ErrorType, type FieldIssue, type TriggerMapping } from '@opsc/contracts';
import type { HookAnswer } from '@opsc/contracts/api';
import { recordAudit } from '../audit.js';
import { DomainError } from '../errors.js';
import type { Role } from '../identity/roles.js';
import type { Caller, JobDeps } from '../jobs/deps.js';
import { runTemplate } from '../templates/run-template.js';
import { readNotification } from './alertmanager.js';
import { withTriggerLock } from './trigger-lock.js';
import { insertDelivery, settleDelivery, type DeliveryRow, type TriggerRow } from './trigger-store.js';

/** A replayed signature: answered exactly as a delivery that does not authenticate. */
export class ReplayRefused extends Error {}

export interface Delivery {
  payload: unknown;
  /** generic: SHA-256 of the signature (a replay has the same); alertmanager: none (the group's firing set is the key). */
  signatureKey: string | null;
  sourceIp: string | undefined;
}

export interface Fired {
  status: 200 | 202;
  answer: HookAnswer;
}

const audit = (
  db: pg.Pool,
  t: TriggerRow,
  action: string,
  actor: string,
  sourceIp: string | undefined,
  details: object,
) =>
  recordAudit(db, {
    tenantId: t.tenant_id,
    actor,
    action,
    objectType: 'trigger',
    objectId: t.id,
    ...(sourceIp && { sourceIp }),
    details: { name: t.name, ...details },
  });

/**
 * A delivery left pending by a stopped orchestrator: the job it recorded (a job of this trigger made
 * after it that no delivery names) is its own; without one, it was refused before any job existed.
 */
const recoverInterrupted = async (db: pg.PoolClient, t: TriggerRow): Promise<void> => {
  const pending = await db.query<DeliveryRow>(
    `SELECT * FROM trigger_deliveries WHERE trigger_id = $1 AND outcome = 'pending' ORDER BY received_at`,
    [t.id],
  );
  for (const d of pending.rows) {
    const job = await db.query<{ id: string }>(
      `SELECT j.id FROM jobs j WHERE j.origin->>'kind' = 'trigger' AND j.origin->>'triggerId' = $1 AND j.created_at >= $2
          AND NOT EXISTS (SELECT 1 FROM trigger_deliveries d WHERE d.job_id = j.id) ORDER BY j.created_at LIMIT 1`,
      [t.id, d.received_at],
    );
    const jobId = job.rows[0]?.id;
    await settleDelivery(db, d.id, jobId ? 'accepted' : 'refused', {
      jobId: jobId ?? null,
      recovered: true,
      reason: jobId ? null : 'interrupted: the orchestrator stopped before a job was recorded',
    });
  }
};

/** Issues at a mapped parameter say which payload path the value came from. */
const withSources = (issues: FieldIssue[] | undefined, sources: Record<string, string>) =>
  issues?.map((i) => {
    const name = /^params\.([A-Za-z0-9]+)/.exec(i.path)?.[1];
    const from = name && sources[name];
    return from && !i.message.includes(from) ? { ...i, message: `${i.message} (mapped from ${from})` } : i;
  });

/**
 * Handles a delivery that authenticated: the owner's role runs the template with the parameters the
 * mapping reads from the payload (validated like any input); an Alertmanager repeat of the same
 * firing set within the dedupe window answers the job it started. Every outcome is recorded.
 */
export const fireTrigger = async (deps: JobDeps, t: TriggerRow, delivery: Delivery): Promise<Fired> => {
  const deliveryId = randomUUID();
  const { sourceIp } = delivery;
  const refuse = async (type: ErrorType, reason: string, issues?: FieldIssue[], key?: string | null) => {
    await insertDelivery(deps.pool, { id: deliveryId, trigger: t, outcome: 'refused', reason, key, sourceIp });
    await audit(deps.pool, t, 'trigger.refused', t.owner_username, sourceIp, { deliveryId, reason });
    return new DomainError(type, reason, issues);
  };
  const answer = (status: 200 | 202, outcome: HookAnswer['outcome'], jobId: string | null, reason: string | null) => ({
    status,
    answer: { deliveryId, outcome, jobId, reason },
  });

  // Deliveries to one trigger are handled one at a time: a repeat cannot race its original, and a
  // delivery left pending was interrupted.
  return withTriggerLock(deps.pool, t.id, async (db) => {
    await recoverInterrupted(db, t);
    let key = delivery.signatureKey;
    if (key) {
      const seen = await db.query<DeliveryRow>(
        'SELECT * FROM trigger_deliveries WHERE trigger_id = $1 AND delivery_key = $2 ORDER BY received_at DESC LIMIT 1',
        [t.id, key],
      );
      const prior = seen.rows[0];
      // The sender's retry of a delivery that was interrupted and recovered: the job it made.
      if (prior?.recovered && prior.outcome === 'accepted')
        return answer(200, 'duplicate', prior.job_id, 'recovered after an interruption');
      if (prior && !prior.recovered) {
        await refuse(ErrorType.AuthFailed, 'replayed signature', undefined, key);
        throw new ReplayRefused();
      }
    }
    // A refused delivery's signature is taken too: replayed once the trigger is enabled again, it is refused.
    if (!t.enabled) throw await refuse(ErrorType.Forbidden, 'the trigger is disabled', undefined, key);
    const owner = (
      await db.query<{ role: Role; disabled: boolean }>('SELECT role, disabled FROM users WHERE id = $1', [t.owner_id])
    ).rows[0];
    if (!owner || owner.disabled)
      throw await refuse(ErrorType.Forbidden, `the trigger's owner ${t.owner_username} is disabled`, undefined, key);

    let mapping: TriggerMapping = t.mapping;
    let view = delivery.payload;
    if (t.kind === 'alertmanager') {
      const read = readNotification(delivery.payload);
      if ('issues' in read)
        throw await refuse(ErrorType.ValidationFailed, 'not an Alertmanager notification (version 4)', read.issues);
      if (read.status === 'resolved' && !t.resolved_mapping) {
        await insertDelivery(db, { id: deliveryId, trigger: t, outcome: 'ignored', reason: 'resolved', sourceIp });
        return answer(200, 'ignored', null, 'resolved notifications are ignored by this trigger');
      }
      if (read.status === 'resolved') mapping = t.resolved_mapping!;
      view = read.view;
      key = read.key;
      const same = await db.query<{ job_id: string }>(
        `SELECT job_id FROM trigger_deliveries WHERE trigger_id = $1 AND delivery_key = $2 AND outcome = 'accepted'
            AND received_at > now() - make_interval(secs => $3) ORDER BY received_at DESC LIMIT 1`,
        [t.id, key, t.dedupe_seconds],
      );
      const jobId = same.rows[0]?.job_id;
      if (jobId) {
        await insertDelivery(db, { id: deliveryId, trigger: t, outcome: 'duplicate', key, jobId, sourceIp });
        return answer(200, 'duplicate', jobId, `the same ${read.status} alerts started ${jobId}`);
      }
    }

    const mapped = applyMapping(mapping, view);
    if (mapped.issues.length)
      throw await refuse(ErrorType.ValidationFailed, 'the payload does not fill the parameters', mapped.issues, key);

    await insertDelivery(db, { id: deliveryId, trigger: t, outcome: 'pending', key, sourceIp });
    const caller: Caller = {
      tenantId: t.tenant_id,
      userId: t.owner_id,
      username: t.owner_username,
      role: owner.role,
      sourceIp,
    };
    try {
      const run = await runTemplate(
        deps,
        caller,
        t.template_id,
        { version: t.template_version ?? undefined, params: mapped.params },
        { kind: 'trigger', triggerId: t.id },
      );
      await settleDelivery(db, deliveryId, 'accepted', { jobId: run.job.id });
      await audit(deps.pool, t, 'trigger.fire', t.owner_username, sourceIp, {
        deliveryId,
        jobId: run.job.id,
        templateId: run.template.id,
        version: run.template.version,
        params: Object.keys(mapped.params),
        preApproved: run.preApproval.applied,
      });
      return answer(
        202,
        'accepted',
        run.job.id,
        run.job.approvalRequired && !run.preApproval.applied ? 'the job waits for approval' : null,
      );
    } catch (err) {
      const reason = err instanceof DomainError ? err.message : 'internal error';
      await settleDelivery(db, deliveryId, 'refused', { reason });
      await audit(deps.pool, t, 'trigger.refused', t.owner_username, sourceIp, { deliveryId, reason });
      if (err instanceof DomainError)
        throw new DomainError(err.type, err.message, withSources(err.issues, mapped.sources));
      throw err;
    }
  });
};
