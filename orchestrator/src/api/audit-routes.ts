import { Router } from 'express';
import { z } from 'zod';
import { principalOf, requireRole } from './auth.js';
import type { ApiDeps } from './deps.js';
import { parseQuery } from './validate.js';

const AuditQuery = z.strictObject({
  actor: z.string().max(100).optional(),
  /** An action, or a prefix ending in `.` (`inventory.`). */
  action: z.string().regex(/^[a-z_.]{1,100}$/).optional(),
  objectType: z.string().max(50).optional(),
  objectId: z.string().max(200).optional(),
  jobId: z.string().max(100).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  /** Keyset paging: the `next` value of the previous page. */
  before: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/** The tenant's audit trail, newest first, for admins. */
export const auditRouter = (deps: ApiDeps): Router => {
  const router = Router();
  router.get('/', requireRole('admin'), async (req, res) => {
    const q = parseQuery(AuditQuery, req);
    const action = q.action?.endsWith('.') ? { like: `${q.action}%` } : { eq: q.action };
    const { rows } = await deps.pool.query(
      `SELECT id::text AS id, at, actor, action, object_type AS "objectType", object_id AS "objectId", job_id AS "jobId",
              plan_hash AS "planHash", source_ip AS "sourceIp", details
       FROM audit_log
       WHERE tenant_id = $1
         AND ($2::text IS NULL OR actor = $2) AND ($3::text IS NULL OR action = $3) AND ($4::text IS NULL OR action LIKE $4)
         AND ($5::text IS NULL OR object_type = $5) AND ($6::text IS NULL OR object_id = $6) AND ($7::text IS NULL OR job_id = $7)
         AND ($8::timestamptz IS NULL OR at >= $8) AND ($9::timestamptz IS NULL OR at < $9) AND ($10::bigint IS NULL OR id < $10)
       ORDER BY id DESC LIMIT $11`,
      [principalOf(res).tenantId, q.actor ?? null, action.eq ?? null, action.like ?? null, q.objectType ?? null, q.objectId ?? null,
        q.jobId ?? null, q.since ?? null, q.until ?? null, q.before ?? null, q.limit + 1],
    );
    const page = rows.slice(0, q.limit);
    res.json({ entries: page, next: rows.length > q.limit ? String(page.at(-1)?.id) : null });
  });
  return router;
};
