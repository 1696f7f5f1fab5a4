import type pg from 'pg';
import { DEFAULT_POOL } from '@opsc/contracts';
import { ConfigError } from './env.js';

/**
 * The ids of the tenants a named pool is served for (EXECUTOR_POOL_TENANTS names them); none for
 * the default pool, which serves every tenant. A name that is no tenant stops the executor.
 */
export const poolTenantIds = async (db: pg.Pool, pool: string, names: readonly string[]): Promise<string[]> => {
  if (pool === DEFAULT_POOL) return [];
  const { rows } = await db.query<{ id: string; name: string }>('SELECT id, name FROM tenants WHERE name = ANY($1)', [
    [...names],
  ]);
  const ids = new Map(rows.map((r) => [r.name, r.id]));
  const unknown = names.filter((n) => !ids.has(n));
  if (unknown.length)
    throw new ConfigError(
      `invalid executor configuration:\n  EXECUTOR_POOL_TENANTS: no tenant named ${unknown.map((n) => `"${n}"`).join(', ')}`,
    );
  return [...new Set(names.map((n) => ids.get(n)!))];
};
