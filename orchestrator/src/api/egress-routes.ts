import { Router } from 'express';
import { EgressAllowList } from '@opsc/contracts';
import type { EgressAllowListView, Sent } from '@opsc/contracts/api';
import { recordAudit } from '../audit.js';
import { inTransaction } from '../db.js';
import { principalOf, requireRole } from './auth.js';
import type { ApiDeps } from './deps.js';
import { parseBody } from './validate.js';

const readList = async (deps: ApiDeps, tenantId: string): Promise<Sent<EgressAllowListView>> => {
  const { rows } = await deps.pool.query<{
    destination: string;
    note: string | null;
    created_by: string;
    created_at: Date;
  }>(
    'SELECT destination, note, created_by, created_at FROM tenant_egress_allow WHERE tenant_id = $1 ORDER BY destination',
    [tenantId],
  );
  return {
    allow: rows.map((r) => ({
      destination: r.destination,
      note: r.note,
      addedBy: r.created_by,
      addedAt: r.created_at.toISOString(),
    })),
  };
};

/**
 * The tenant's egress allow list: destinations its http steps and network diagnostics may reach
 * although they are loopback, link-local or private. Anyone of the tenant may read it; admins
 * replace it whole. Cloud metadata and the platform's own services stay refused whatever it says
 * (the executor enforces the policy at connect time).
 */
export const egressRouter = (deps: ApiDeps): Router => {
  const router = Router();

  router.get('/', async (_req, res) => {
    res.json(await readList(deps, principalOf(res).tenantId));
  });

  router.put('/', requireRole('admin'), async (req, res) => {
    const principal = principalOf(res);
    const { allow } = parseBody(EgressAllowList, req);
    const entries = allow.map((e) => ({ destination: e.destination.trim(), note: e.note ?? null }));
    const after = entries.map((e) => e.destination);
    // The list and its audit entry are written together, or neither is.
    await inTransaction(deps.pool, async (db) => {
      const old = await db.query<{ destination: string }>(
        'SELECT destination FROM tenant_egress_allow WHERE tenant_id = $1 FOR UPDATE',
        [principal.tenantId],
      );
      const before = old.rows.map((r) => r.destination);
      // Entries that stay keep who added them and when; only the note follows the new list.
      await db.query('DELETE FROM tenant_egress_allow WHERE tenant_id = $1 AND NOT (destination = ANY($2::text[]))', [
        principal.tenantId,
        after,
      ]);
      await db.query(
        `INSERT INTO tenant_egress_allow (tenant_id, destination, note, created_by)
         SELECT $1, e.destination, e.note, $2 FROM jsonb_to_recordset($3::jsonb) AS e(destination text, note text)
         ON CONFLICT (tenant_id, destination) DO UPDATE SET note = EXCLUDED.note`,
        [principal.tenantId, principal.username, JSON.stringify(entries)],
      );
      await recordAudit(db, {
        tenantId: principal.tenantId,
        actor: principal.username,
        action: 'tenant.egress.update',
        objectType: 'tenant',
        objectId: principal.tenantId,
        sourceIp: req.ip,
        details: { added: after.filter((d) => !before.includes(d)), removed: before.filter((d) => !after.includes(d)) },
      });
    });
    res.json(await readList(deps, principal.tenantId));
  });

  return router;
};
