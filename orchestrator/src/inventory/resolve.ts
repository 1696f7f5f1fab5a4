import type { ResolvedTarget, TargetSelector } from '@opsc/contracts';
import { NotFound } from '../errors.js';
import type { Db } from '../db.js';
import { descendantGroupIds } from './groups.js';
import { findTargets } from './targets.js';

/**
 * Turns a selector into concrete targets: a group's targets and its descendants' (once each), plus
 * named targets, then filtered by tags (all must match) and OS. Unknown names are errors, never
 * silently empty: a typo must not turn "restart the fleet" into "restart nothing, successfully".
 */
export const resolveTargets = async (db: Db, tenantId: string, selector: TargetSelector): Promise<ResolvedTarget[]> => {
  const ids = new Set<string>();
  if (selector.group) {
    const { rows } = await db.query<{ id: string }>('SELECT id FROM target_groups WHERE tenant_id = $1 AND name = $2', [
      tenantId,
      selector.group,
    ]);
    const groupId = rows[0]?.id;
    if (!groupId)
      throw new NotFound(`no group named "${selector.group}"`, [{ path: 'group', message: 'no such group' }]);
    const members = await db.query<{ target_id: string }>(
      'SELECT DISTINCT target_id FROM group_targets WHERE group_id = ANY($1)',
      [await descendantGroupIds(db, groupId)],
    );
    for (const row of members.rows) ids.add(row.target_id);
  }
  if (selector.targets?.length) {
    const named = await findTargets(db, tenantId, { names: selector.targets });
    const found = new Set(named.map((t) => t.name));
    const missing = selector.targets.flatMap((name, i) =>
      found.has(name) ? [] : [{ path: `targets.${i}`, message: `no target named "${name}"` }],
    );
    if (missing.length) throw new NotFound('unknown targets', missing);
    for (const t of named) ids.add(t.id);
  }
  const candidates =
    selector.group || selector.targets?.length
      ? await findTargets(db, tenantId, { ids: [...ids] })
      : await findTargets(db, tenantId);
  return candidates.filter(
    (t) => (selector.os ? t.os === selector.os : true) && (selector.tags ?? []).every((tag) => t.tags.includes(tag)),
  );
};

/** Selectors in, targets out. */
export type InventoryResolver = (selector: TargetSelector) => Promise<ResolvedTarget[]>;

/**
 * A resolver that asks the inventory once per selector: a draft step's selector and the OS variants
 * compiled from it (the same selector with `os`) share one lookup, filtered by OS here as
 * `resolveTargets` filters it. A submission uses one from validation to job, so the job runs on the
 * targets its plan was validated with.
 */
export const resolverOnce = (resolve: InventoryResolver): InventoryResolver => {
  const asked = new Map<string, Promise<ResolvedTarget[]>>();
  return async ({ os, ...selector }) => {
    const key = JSON.stringify([selector.group ?? null, selector.targets ?? null, selector.tags ?? null]);
    let found = asked.get(key);
    if (!found) {
      found = resolve(selector);
      asked.set(key, found);
    }
    const targets = await found;
    return targets.filter((t) => (os ? t.os === os : true));
  };
};
