import type pg from 'pg';
import type { TriggerMapping } from '@opsc/contracts';
import type { Sent, TriggerDelivery, TriggerView } from '@opsc/contracts/api';
import { templateBoundStore } from '../templates/template-bound-store.js';
import { triggerKeyId } from './trigger-secret.js';

export interface TriggerRow {
  id: string;
  tenant_id: string;
  name: string;
  description: string;
  template_id: string;
  template_name: string;
  template_version: number | null;
  owner_id: string;
  owner_username: string;
  owner_disabled: boolean;
  kind: 'generic' | 'alertmanager';
  mapping: TriggerMapping;
  resolved_mapping: TriggerMapping | null;
  dedupe_seconds: number;
  enabled: boolean;
  secret_salt: string | null;
  key_id: string | null;
  secret_hash: string | null;
  secret_rotated_at: Date;
  created_by: string;
  created_at: Date;
  updated_at: Date;
}

type Db = pg.Pool | pg.PoolClient;

const store = templateBoundStore<TriggerRow>('triggers', 'trigger', 1000);
/** A live trigger by id alone; undefined for any other id. */
export const findTrigger = store.find;
/** A live trigger of the tenant; another tenant's, a deleted one or a malformed id is not found alike. */
export const triggerOf = store.of;
export const triggersOf = store.list;

export const triggerView = (row: TriggerRow, key: Buffer | undefined): Sent<TriggerView> => ({
  id: row.id,
  name: row.name,
  description: row.description,
  kind: row.kind,
  template: { id: row.template_id, name: row.template_name },
  templateVersion: row.template_version,
  owner: { id: row.owner_id, username: row.owner_username, disabled: row.owner_disabled },
  mapping: row.mapping,
  resolvedMapping: row.resolved_mapping,
  dedupeSeconds: row.dedupe_seconds,
  enabled: row.enabled,
  url: `/api/hooks/${row.id}`,
  secretRotatedAt: row.secret_rotated_at,
  secretUsable: row.kind === 'alertmanager' || (key !== undefined && row.key_id === triggerKeyId(key)),
  createdBy: row.created_by,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export interface DeliveryRow {
  id: string;
  received_at: Date;
  outcome: TriggerDelivery['outcome'];
  reason: string | null;
  job_id: string | null;
  recovered: boolean;
  source_ip: string | null;
  delivery_key: string | null;
}

export const deliveriesOf = async (db: Db, triggerId: string): Promise<Sent<TriggerDelivery>[]> =>
  (
    await db.query<DeliveryRow>(
      'SELECT * FROM trigger_deliveries WHERE trigger_id = $1 ORDER BY received_at DESC, id LIMIT 100',
      [triggerId],
    )
  ).rows.map((d) => ({
    id: d.id,
    receivedAt: d.received_at,
    outcome: d.outcome,
    reason: d.reason,
    jobId: d.job_id,
    recovered: d.recovered,
    sourceIp: d.source_ip,
  }));

/** Deliveries are kept for this long (the list shows the last 100). */
const KEEP_DAYS = 30;

export const insertDelivery = async (
  db: Db,
  d: {
    id: string;
    trigger: Pick<TriggerRow, 'id' | 'tenant_id'>;
    outcome: DeliveryRow['outcome'];
    reason?: string | null;
    key?: string | null;
    jobId?: string | null;
    sourceIp?: string | undefined;
  },
): Promise<void> => {
  await db.query(
    `INSERT INTO trigger_deliveries (id, trigger_id, tenant_id, outcome, reason, delivery_key, job_id, source_ip)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      d.id,
      d.trigger.id,
      d.trigger.tenant_id,
      d.outcome,
      d.reason?.slice(0, 1000) ?? null,
      d.key ?? null,
      d.jobId ?? null,
      d.sourceIp?.slice(0, 100) ?? null,
    ],
  );
  await db.query(
    `DELETE FROM trigger_deliveries WHERE trigger_id = $1 AND received_at < now() - make_interval(days => $2)`,
    [d.trigger.id, KEEP_DAYS],
  );
};

export const settleDelivery = async (
  db: Db,
  id: string,
  outcome: DeliveryRow['outcome'],
  fields: { reason?: string | null; jobId?: string | null; recovered?: boolean },
): Promise<void> => {
  await db.query(
    `UPDATE trigger_deliveries SET outcome = $2, reason = $3, job_id = coalesce($4, job_id), recovered = recovered OR $5 WHERE id = $1`,
    [id, outcome, fields.reason?.slice(0, 1000) ?? null, fields.jobId ?? null, fields.recovered ?? false],
  );
};
