import type pg from 'pg';
import { NotFound } from '../errors.js';

type Db = pg.Pool | pg.PoolClient;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Reads the records that run a template as their owner (triggers, schedules), each with its
 * template's name and its owner's name and state: by id alone, of a tenant, and a tenant's list.
 */
export const templateBoundStore = <Row extends { tenant_id: string }>(
  table: 'triggers' | 'schedules',
  noun: string,
  listLimit: number,
) => {
  const select = `SELECT r.*, t.name AS template_name, u.username AS owner_username, u.disabled AS owner_disabled
    FROM ${table} r JOIN templates t ON t.id = r.template_id JOIN users u ON u.id = r.owner_id`;

  /** A live record by id alone; undefined for any other id. */
  const find = async (db: Db, id: string): Promise<Row | undefined> =>
    UUID.test(id)
      ? (await db.query<Row>(`${select} WHERE r.id = $1 AND r.deleted_at IS NULL`, [id])).rows[0]
      : undefined;

  /** A live record of the tenant; another tenant's, a deleted one or a malformed id is not found alike. */
  const of = async (db: Db, tenantId: string, id: string): Promise<Row> => {
    const row = await find(db, id);
    if (!row || row.tenant_id !== tenantId) throw new NotFound(`no ${noun} ${id.slice(0, 100)}`);
    return row;
  };

  /** The tenant's live records by name. */
  const list = async (db: Db, tenantId: string): Promise<Row[]> =>
    (
      await db.query<Row>(
        `${select} WHERE r.tenant_id = $1 AND r.deleted_at IS NULL ORDER BY lower(r.name) LIMIT ${listLimit}`,
        [tenantId],
      )
    ).rows;

  /** Every live record, of every tenant, oldest first. */
  const all = async (db: Db): Promise<Row[]> =>
    (await db.query<Row>(`${select} WHERE r.deleted_at IS NULL ORDER BY r.created_at`)).rows;

  return { find, of, list, all };
};
