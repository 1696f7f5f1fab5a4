import { Router, type Request, type Response } from 'express';
import { ErrorType, GroupInput, InventoryName, TargetInput, TargetSelector } from '@opsc/contracts';
import {
  ImportBody,
  type GroupAnswer,
  type GroupList,
  type HostKeyAnswer,
  type ImportAnswer,
  type ResolveAnswer,
  type Sent,
  type TargetAnswer,
  type TargetList,
} from '@opsc/contracts/api';
import { recordAudit } from '../audit.js';
import { inTransaction, type Db } from '../db.js';
import { listGroups, upsertGroup } from '../inventory/groups.js';
import { resolveTargets } from '../inventory/resolve.js';
import { findTargets, upsertTarget } from '../inventory/targets.js';
import { applyImport, diffImport } from '../inventory/ansible-apply.js';
import { ImportInvalid, toImportModel, type ImportModel } from '../inventory/ansible-import.js';
import { parseAnsibleIni } from '../inventory/ansible-ini.js';
import { InventoryFileError } from '../inventory/ansible-model.js';
import { parseAnsibleYaml } from '../inventory/ansible-yaml.js';
import { principalOf, requireRole } from './auth.js';
import type { ApiDeps } from './deps.js';
import { ApiFailure } from './errors.js';
import { parseBody } from './validate.js';

const nameParam = (req: Request): string => {
  const parsed = InventoryName.safeParse(req.params.name);
  if (!parsed.success) throw new ApiFailure(ErrorType.NotFound, `no such object "${String(req.params.name)}"`);
  return parsed.data;
};

const exists = async (db: Db, table: 'targets' | 'target_groups', tenantId: string, name: string) =>
  Boolean((await db.query(`SELECT 1 FROM ${table} WHERE tenant_id = $1 AND name = $2`, [tenantId, name])).rowCount);

/** Targets, groups and target resolution. Reads for every role, writes for admins; all of it audited. */
export const inventoryRouter = (deps: ApiDeps): Router => {
  const router = Router();
  const audit = (
    req: Request,
    res: Response,
    action: string,
    objectType: string,
    objectId: string,
    details?: Record<string, unknown>,
  ) => {
    const p = principalOf(res);
    return recordAudit(deps.pool, {
      tenantId: p.tenantId,
      actor: p.username,
      action,
      objectType,
      objectId,
      sourceIp: req.ip,
      ...(details && { details }),
    });
  };

  // What was just written, read back as every answer shows it.
  const oneTarget = async (tenantId: string, id: string) => {
    const [target] = await findTargets(deps.pool, tenantId, { ids: [id] });
    if (!target) throw new ApiFailure(ErrorType.Conflict, 'the target was deleted while it was saved');
    return target;
  };
  const oneGroup = async (tenantId: string, name: string) => {
    const group = (await listGroups(deps.pool, tenantId)).find((g) => g.name === name);
    if (!group) throw new ApiFailure(ErrorType.Conflict, 'the group was deleted while it was saved');
    return group;
  };

  router.get('/targets', async (_req, res) => {
    res.json({ targets: await findTargets(deps.pool, principalOf(res).tenantId) } satisfies Sent<TargetList>);
  });

  router.post('/targets', requireRole('admin'), async (req, res) => {
    const tenantId = principalOf(res).tenantId;
    const target = parseBody(TargetInput, req);
    const { id } = await inTransaction(deps.pool, async (db) => {
      if (await exists(db, 'targets', tenantId, target.name)) {
        throw new ApiFailure(ErrorType.Conflict, `a target named "${target.name}" exists`, [
          { path: 'name', message: 'is taken' },
        ]);
      }
      return upsertTarget(db, tenantId, target);
    });
    // The executor pool says where its actions run: the audit log keeps it with each change.
    await audit(req, res, 'inventory.target.create', 'target', target.name, { pool: target.pool ?? null });
    res.status(201).json({ target: await oneTarget(tenantId, id) } satisfies Sent<TargetAnswer>);
  });

  router.put('/targets/:name', requireRole('admin'), async (req, res) => {
    const tenantId = principalOf(res).tenantId;
    const name = nameParam(req);
    const target = parseBody(TargetInput, req);
    if (target.name !== name)
      throw new ApiFailure(ErrorType.ValidationFailed, 'the body names another target', [
        { path: 'name', message: `must be "${name}"` },
      ]);
    const { id, created } = await inTransaction(deps.pool, (db) => upsertTarget(db, tenantId, target));
    await audit(req, res, created ? 'inventory.target.create' : 'inventory.target.update', 'target', name, {
      pool: target.pool ?? null,
    });
    res.status(created ? 201 : 200).json({ target: await oneTarget(tenantId, id) } satisfies Sent<TargetAnswer>);
  });

  const remove =
    (table: 'targets' | 'target_groups', kind: 'target' | 'group') => async (req: Request, res: Response) => {
      const name = nameParam(req);
      const { rowCount } = await deps.pool.query(`DELETE FROM ${table} WHERE tenant_id = $1 AND name = $2`, [
        principalOf(res).tenantId,
        name,
      ]);
      if (!rowCount) throw new ApiFailure(ErrorType.NotFound, `no ${kind} named "${name}"`);
      await audit(req, res, `inventory.${kind}.delete`, kind, name);
      res.status(204).end();
    };
  router.delete('/targets/:name', requireRole('admin'), remove('targets', 'target'));

  // The SSH host key the executor pinned for a target. Forgetting it (after a legitimate re-key)
  // lets the next connection pin the new key under accept-new, or an enrolment step under strict.
  const HOST_KEY = `SELECT k.algorithm, k.fingerprint, k.source, k.pinned_at FROM ssh_host_keys k
                      JOIN targets t ON t.id = k.target_id WHERE t.tenant_id = $1 AND t.name = $2`;
  router.get('/targets/:name/host-key', async (req, res) => {
    const name = nameParam(req);
    const { rows } = await deps.pool.query<{ algorithm: string; fingerprint: string; source: string; pinned_at: Date }>(
      HOST_KEY,
      [principalOf(res).tenantId, name],
    );
    const key = rows[0];
    if (!key) throw new ApiFailure(ErrorType.NotFound, `no host key is pinned for "${name}"`);
    res.json({
      hostKey: { algorithm: key.algorithm, fingerprint: key.fingerprint, source: key.source, pinnedAt: key.pinned_at },
    } satisfies Sent<HostKeyAnswer>);
  });
  router.delete('/targets/:name/host-key', requireRole('admin'), async (req, res) => {
    const name = nameParam(req);
    const { rows } = await deps.pool.query<{ fingerprint: string }>(
      `DELETE FROM ssh_host_keys k USING targets t WHERE t.id = k.target_id AND t.tenant_id = $1 AND t.name = $2 RETURNING k.fingerprint`,
      [principalOf(res).tenantId, name],
    );
    const removed = rows[0];
    if (!removed) throw new ApiFailure(ErrorType.NotFound, `no host key is pinned for "${name}"`);
    await audit(req, res, 'inventory.target.host-key.forget', 'target', name, { fingerprint: removed.fingerprint });
    res.status(204).end();
  });

  router.get('/groups', async (_req, res) => {
    res.json({ groups: await listGroups(deps.pool, principalOf(res).tenantId) } satisfies Sent<GroupList>);
  });

  const saveGroup = (mode: 'create' | 'replace') => async (req: Request, res: Response) => {
    const tenantId = principalOf(res).tenantId;
    const group = parseBody(GroupInput, req);
    if (mode === 'replace' && group.name !== nameParam(req)) {
      throw new ApiFailure(ErrorType.ValidationFailed, 'the body names another group', [
        { path: 'name', message: `must be "${nameParam(req)}"` },
      ]);
    }
    const { created } = await inTransaction(deps.pool, async (db) => {
      if (mode === 'create' && (await exists(db, 'target_groups', tenantId, group.name))) {
        throw new ApiFailure(ErrorType.Conflict, `a group named "${group.name}" exists`, [
          { path: 'name', message: 'is taken' },
        ]);
      }
      return upsertGroup(db, tenantId, group);
    });
    await audit(req, res, created ? 'inventory.group.create' : 'inventory.group.update', 'group', group.name, {
      targets: group.targets.length,
      children: group.children,
      pool: group.pool ?? null,
    });
    res.status(created ? 201 : 200).json({ group: await oneGroup(tenantId, group.name) } satisfies Sent<GroupAnswer>);
  };
  router.post('/groups', requireRole('admin'), saveGroup('create'));
  router.put('/groups/:name', requireRole('admin'), saveGroup('replace'));

  router.delete('/groups/:name', requireRole('admin'), remove('target_groups', 'group'));

  router.post('/import', requireRole('admin'), async (req, res) => {
    const tenantId = principalOf(res).tenantId;
    const body = parseBody(ImportBody, req);
    let model: ImportModel;
    try {
      model = toImportModel(
        body.format === 'ini' ? parseAnsibleIni(body.content) : parseAnsibleYaml(body.content),
        body,
      );
    } catch (err) {
      if (err instanceof InventoryFileError)
        throw new ApiFailure(ErrorType.ValidationFailed, 'the inventory file is invalid', [
          { path: 'content', message: err.message },
        ]);
      if (err instanceof ImportInvalid) throw new ApiFailure(ErrorType.ValidationFailed, err.message, err.issues);
      throw err;
    }
    for (const [protocol, name] of Object.entries(body.defaultCredentials ?? {})) {
      if (
        name &&
        !(await deps.pool.query('SELECT 1 FROM credentials WHERE tenant_id = $1 AND name = $2', [tenantId, name]))
          .rowCount
      ) {
        throw new ApiFailure(ErrorType.ValidationFailed, 'unknown credential', [
          { path: `defaultCredentials.${protocol}`, message: `no credential named "${name}"` },
        ]);
      }
    }
    const diff = await diffImport(deps.pool, tenantId, model);
    if (!body.dryRun) {
      await inTransaction(deps.pool, (db) => applyImport(db, tenantId, model));
      await audit(req, res, 'inventory.import', 'inventory', body.format, {
        targetsCreated: diff.targets.create.length,
        targetsUpdated: diff.targets.update.length,
        groupsCreated: diff.groups.create.length,
        groupsUpdated: diff.groups.update.length,
      });
    }
    res.json({ dryRun: body.dryRun, applied: !body.dryRun, diff, notes: model.notes } satisfies Sent<ImportAnswer>);
  });

  router.post('/resolve', async (req, res) => {
    const targets = await resolveTargets(deps.pool, principalOf(res).tenantId, parseBody(TargetSelector, req));
    const byOs = {
      linux: targets.filter((t) => t.os === 'linux').length,
      windows: targets.filter((t) => t.os === 'windows').length,
    };
    res.json({ count: targets.length, byOs, targets } satisfies Sent<ResolveAnswer>);
  });

  return router;
};
