import { Router } from 'express';
import { AuditQuery, auditCursor, type AuditEntry, type AuditPage, type Sent } from '@opsc/contracts/api';
import { principalOf, requireRole } from './auth.js';
import type { ApiDeps } from './deps.js';
import { parseQuery } from './validate.js';

/** The tenant's audit trail, newest first, for admins. */
export const auditRouter = (deps: ApiDeps): Router => {
  const router = Router();
  router.get('/', requireRole('admin'), async (req, res) => {
    const q = parseQuery(AuditQuery, req);
    const action = q.action?.endsWith('.') ? { like: `${q.action}%` } : { eq: q.action };
    const cursor = q.before === undefined ? undefined : auditCursor(q.before);
    // Newest first by time, then by id as a number; the cursor is the last row's (at, id), exact to
    // the microsecond, so that a page neither skips nor repeats rows that share a time.
    const { rows } = await deps.pool.query<AuditEntry & { cursor: string }>(
      `SELECT a.id::text AS id, a.at, a.actor, a.action, a.object_type AS "objectType", a.object_id AS "objectId", a.job_id AS "jobId",
              a.plan_hash AS "planHash", a.source_ip AS "sourceIp", a.details,
              to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '_' || a.id AS cursor
       FROM audit_log a
       WHERE a.tenant_id = $1
         AND ($2::text IS NULL OR a.actor = $2) AND ($3::text IS NULL OR a.action = $3) AND ($4::text IS NULL OR a.action LIKE $4)
         AND ($5::text IS NULL OR a.object_type = $5) AND ($6::text IS NULL OR a.object_id = $6) AND ($7::text IS NULL OR a.job_id = $7)
         AND ($8::timestamptz IS NULL OR a.at >= $8) AND ($9::timestamptz IS NULL OR a.at < $9)
         AND ($10::timestamptz IS NULL OR (a.at, a.id) < ($10::timestamptz, $11::bigint))
       ORDER BY a.at DESC, a.id DESC LIMIT $12`,
      [
        principalOf(res).tenantId,
        q.actor ?? null,
        action.eq ?? null,
        action.like ?? null,
        q.objectType ?? null,
        q.objectId ?? null,
        // As instants, not as written: ISO 8601 allows years and offsets PostgreSQL does not (0000, +23:59).
        q.jobId ?? null,
        q.since ? new Date(q.since) : null,
        q.until ? new Date(q.until) : null,
        cursor?.at ?? null,
        cursor?.id ?? null,
        q.limit + 1,
      ],
    );
    const page = rows.slice(0, q.limit).map(({ cursor: _cursor, ...entry }) => entry);
    res.json({
      entries: page,
      next: rows.length > q.limit ? rows[q.limit - 1]!.cursor : null,
    } satisfies Sent<AuditPage>);
  });
  return router;
};
