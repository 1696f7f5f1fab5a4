import type pg from 'pg';

export interface AuditEvent {
  tenantId: string | null;
  actor: string;
  action: string;
  objectType?: string;
  objectId?: string;
  jobId?: string;
  planHash?: string;
  sourceIp?: string;
  /** Names, counts and ids only: never a secret, a password or a request body. */
  details?: Record<string, unknown>;
}

/** Appends to the audit log (the database grants this role INSERT and SELECT only). */
export const recordAudit = async (db: pg.Pool | pg.PoolClient, e: AuditEvent): Promise<void> => {
  await db.query(
    `INSERT INTO audit_log (tenant_id, actor, action, object_type, object_id, job_id, plan_hash, source_ip, details)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      e.tenantId,
      e.actor,
      e.action,
      e.objectType ?? null,
      e.objectId ?? null,
      e.jobId ?? null,
      e.planHash ?? null,
      e.sourceIp ?? null,
      JSON.stringify(e.details ?? {}),
    ],
  );
};

/** An audit entry of a change a caller made to one object of a kind (a template, a trigger, a schedule). */
export const auditChange =
  (objectType: string) =>
  (
    db: pg.Pool | pg.PoolClient,
    caller: { tenantId: string; username: string; sourceIp?: string | undefined },
    action: string,
    objectId: string,
    details: Record<string, unknown>,
  ): Promise<void> =>
    recordAudit(db, {
      tenantId: caller.tenantId,
      actor: caller.username,
      action,
      objectType,
      objectId,
      ...(caller.sourceIp && { sourceIp: caller.sourceIp }),
      details,
    });
