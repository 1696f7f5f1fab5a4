import type pg from 'pg';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType, parseEgressRule, type EgressRule } from '@opsc/contracts';
import type { EgressScope } from './egress-guard.js';

const CACHE_MS = 10_000;
const MAX_CACHED = 1_000;

/**
 * A job's tenant's allowed destinations, read from PostgreSQL (kept 10 s: an admin's change applies
 * within that). The tenant an activity input names must be the job's own.
 */
export const tenantEgressRules = (pool: pg.Pool): ((scope: EgressScope) => Promise<readonly EgressRule[]>) => {
  const cache = new Map<string, { at: number; tenantId: string; rules: readonly EgressRule[] }>();
  return async (scope) => {
    let entry = cache.get(scope.jobId);
    if (!entry || Date.now() - entry.at > CACHE_MS) {
      const { rows } = await pool.query<{ tenant_id: string; allow: string[] }>(
        `SELECT j.tenant_id::text AS tenant_id,
                coalesce((SELECT array_agg(a.destination ORDER BY a.destination) FROM tenant_egress_allow a WHERE a.tenant_id = j.tenant_id), '{}') AS allow
           FROM jobs j WHERE j.id = $1`,
        [scope.jobId],
      );
      const row = rows[0];
      if (!row)
        throw ApplicationFailure.nonRetryable(`job ${scope.jobId} is not known to the executor`, ErrorType.NotFound);
      // Rules were checked when an admin wrote them; one that no longer parses opens nothing.
      const rules = row.allow.flatMap((text) => {
        const parsed = parseEgressRule(text);
        return 'rule' in parsed ? [parsed.rule] : [];
      });
      if (cache.size >= MAX_CACHED) cache.clear();
      entry = { at: Date.now(), tenantId: row.tenant_id, rules };
      cache.set(scope.jobId, entry);
    }
    if (entry.tenantId !== scope.tenantId)
      throw ApplicationFailure.nonRetryable(`job ${scope.jobId} belongs to another tenant`, ErrorType.Forbidden);
    return entry.rules;
  };
};
