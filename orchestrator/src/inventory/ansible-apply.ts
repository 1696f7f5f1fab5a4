import type { GroupInput, TargetInput } from '@opsc/contracts';
import type { Db } from '../db.js';
import { listGroups, upsertGroup } from './groups.js';
import { findTargets, upsertTarget } from './targets.js';
import type { ImportModel } from './ansible-import.js';

export interface ImportDiff {
  targets: { create: string[]; update: { name: string; fields: string[] }[]; unchanged: number };
  groups: { create: string[]; update: { name: string; fields: string[] }[]; unchanged: number };
}

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].sort().join('\0') === [...b].sort().join('\0');
const serviceKey = (s: TargetInput['services'][number] & { credentialId?: unknown }) => {
  const { credentialId: _id, ...rest } = s;
  return JSON.stringify(rest, Object.keys(rest).sort());
};

/** What an import would change: created, updated (with the fields) and unchanged targets and groups. */
export const diffImport = async (db: Db, tenantId: string, model: ImportModel): Promise<ImportDiff> => {
  const existing = new Map((await findTargets(db, tenantId)).map((t) => [t.name, t]));
  const groups = new Map((await listGroups(db, tenantId)).map((g) => [g.name, g]));
  const diff: ImportDiff = {
    targets: { create: [], update: [], unchanged: 0 },
    groups: { create: [], update: [], unchanged: 0 },
  };
  for (const target of model.targets) {
    const now = existing.get(target.name);
    if (!now) {
      diff.targets.create.push(target.name);
      continue;
    }
    const fields = [
      ...(now.address !== target.address ? ['address'] : []),
      ...(now.os !== target.os ? ['os'] : []),
      ...(!sameSet(now.services.map(serviceKey), target.services.map(serviceKey)) ? ['services'] : []),
    ];
    if (fields.length) diff.targets.update.push({ name: target.name, fields });
    else diff.targets.unchanged += 1;
  }
  for (const group of model.groups) {
    const now = groups.get(group.name);
    if (!now) {
      diff.groups.create.push(group.name);
      continue;
    }
    const fields = [
      ...(!sameSet(now.targets, group.targets) ? ['targets'] : []),
      ...(!sameSet(now.children, group.children) ? ['children'] : []),
    ];
    if (fields.length) diff.groups.update.push({ name: group.name, fields });
    else diff.groups.unchanged += 1;
  }
  return diff;
};

/**
 * Applies an import inside the caller's transaction: targets, then every group (so children
 * exist), then each group's members and children. Objects not in the file are left alone.
 * Existing targets keep their tags and executor pool; existing groups their description and pool.
 */
export const applyImport = async (db: Db, tenantId: string, model: ImportModel): Promise<void> => {
  const existing = new Map((await findTargets(db, tenantId)).map((t) => [t.name, t]));
  for (const target of model.targets) {
    const now = existing.get(target.name);
    await upsertTarget(db, tenantId, {
      ...target,
      tags: now?.tags ?? target.tags,
      ...(now?.pool && { pool: now.pool }),
    });
  }
  const current = new Map((await listGroups(db, tenantId)).map((g) => [g.name, g]));
  for (const group of model.groups) {
    if (!current.has(group.name))
      await upsertGroup(db, tenantId, {
        name: group.name,
        description: 'imported from Ansible',
        targets: [],
        children: [],
      } satisfies GroupInput);
  }
  for (const group of model.groups) {
    const now = current.get(group.name);
    await upsertGroup(db, tenantId, {
      ...group,
      description: now?.description ?? 'imported from Ansible',
      ...(now?.pool && { pool: now.pool }),
    });
  }
};
