import type { GroupView } from '@opsc/contracts/api';
import type { GroupInput } from '@opsc/contracts';
import { InvalidInput } from '../errors.js';
import type { Db } from '../db.js';

const idsByName = async (
  db: Db,
  table: 'targets' | 'target_groups',
  tenantId: string,
  names: string[],
  field: string,
): Promise<string[]> => {
  if (names.length === 0) return [];
  const { rows } = await db.query<{ id: string; name: string }>(
    `SELECT id, name FROM ${table} WHERE tenant_id = $1 AND name = ANY($2)`,
    [tenantId, names],
  );
  const byName = new Map(rows.map((r) => [r.name, r.id]));
  const issues = names.flatMap((name, i) =>
    byName.has(name)
      ? []
      : [{ path: `${field}.${i}`, message: `no ${table === 'targets' ? 'target' : 'group'} named "${name}"` }],
  );
  if (issues.length) throw new InvalidInput(`unknown ${field}`, issues);
  return names.map((name) => byName.get(name)!);
};

/** Groups reachable downwards from `groupId`, itself included. */
export const descendantGroupIds = async (db: Db, groupId: string): Promise<string[]> => {
  const { rows } = await db.query<{ id: string }>(
    `WITH RECURSIVE tree(id) AS (
       SELECT $1::uuid
       UNION SELECT c.child_id FROM group_children c JOIN tree ON c.parent_id = tree.id
     ) SELECT id FROM tree`,
    [groupId],
  );
  return rows.map((r) => r.id);
};

/** Creates or replaces a group's members and children (by name). A child that contains the group is a cycle, refused. */
export const upsertGroup = async (
  db: Db,
  tenantId: string,
  group: GroupInput,
): Promise<{ id: string; created: boolean }> => {
  const { rows } = await db.query<{ id: string; created: boolean }>(
    `INSERT INTO target_groups (tenant_id, name, description, pool) VALUES ($1, $2, $3, $4)
     ON CONFLICT (tenant_id, name) DO UPDATE SET description = EXCLUDED.description, pool = EXCLUDED.pool
     RETURNING id, (xmax = 0) AS created`,
    [tenantId, group.name, group.description, group.pool ?? null],
  );
  const { id, created } = rows[0]!;
  const targetIds = await idsByName(db, 'targets', tenantId, group.targets, 'targets');
  const childIds = await idsByName(db, 'target_groups', tenantId, group.children, 'children');
  for (const [i, childId] of childIds.entries()) {
    if (childId === id || (await descendantGroupIds(db, childId)).includes(id)) {
      throw new InvalidInput('group cycle', [
        {
          path: `children.${i}`,
          message: `"${group.children[i]}" contains "${group.name}"; a group cannot contain itself`,
        },
      ]);
    }
  }
  await db.query('DELETE FROM group_targets WHERE group_id = $1', [id]);
  await db.query('DELETE FROM group_children WHERE parent_id = $1', [id]);
  await db.query('INSERT INTO group_targets (group_id, target_id) SELECT $1, unnest($2::uuid[])', [id, targetIds]);
  await db.query('INSERT INTO group_children (parent_id, child_id) SELECT $1, unnest($2::uuid[])', [id, childIds]);
  return { id, created };
};

export const listGroups = async (db: Db, tenantId: string) =>
  (
    await db.query<{
      id: string;
      name: string;
      description: string;
      targets: string[];
      children: string[];
      pool?: string;
    }>(
      `SELECT g.id, g.name, g.description, g.pool,
              coalesce((SELECT array_agg(t.name ORDER BY t.name) FROM group_targets gt JOIN targets t ON t.id = gt.target_id WHERE gt.group_id = g.id), '{}') AS targets,
              coalesce((SELECT array_agg(c.name ORDER BY c.name) FROM group_children gc JOIN target_groups c ON c.id = gc.child_id WHERE gc.parent_id = g.id), '{}') AS children
       FROM target_groups g WHERE g.tenant_id = $1 ORDER BY g.name`,
      [tenantId],
    )
  ).rows.map(({ pool, ...group }): GroupView => (pool ? { ...group, pool } : group));
