import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { RiskLevel, TemplateParam, TemplatePlan } from '@opsc/contracts';
import { NotFound } from '../errors.js';

/** A template's row (not deleted). */
export interface TemplateRow {
  id: string;
  tenant_id: string;
  name: string;
  description: string;
  created_by: string;
  created_at: Date;
}

export interface VersionRow {
  id: string;
  template_id: string;
  tenant_id: string;
  version: number;
  plan: TemplatePlan;
  parameters: TemplateParam[];
  run_role: 'operator' | 'approver' | 'admin';
  approval_mode: 'auto' | 'required';
  risk: RiskLevel;
  shape_hash: string;
  created_by: string;
  created_at: Date;
}

export interface PreApprovalRow {
  id: string;
  version_id: string;
  shape_hash: string;
  user_id: string;
  approved_by: string;
  role: 'approver' | 'admin';
  comment: string | null;
  created_at: Date;
  voided_at: Date | null;
  void_reason: string | null;
}

/** What a new version holds, as derived and validated. */
export interface NewVersion {
  plan: TemplatePlan;
  parameters: TemplateParam[];
  runRole: VersionRow['run_role'];
  approvalMode: VersionRow['approval_mode'];
  risk: RiskLevel;
  shapeHash: string;
  createdBy: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A live template of the tenant; another tenant's, a deleted one or a malformed id is not found alike. */
export const templateOf = async (db: pg.Pool | pg.PoolClient, tenantId: string, id: string): Promise<TemplateRow> => {
  const row = UUID.test(id)
    ? (
        await db.query<TemplateRow>('SELECT * FROM templates WHERE id = $1 AND tenant_id = $2 AND deleted_at IS NULL', [
          id,
          tenantId,
        ])
      ).rows[0]
    : undefined;
  if (!row) throw new NotFound(`no template ${id.slice(0, 100)}`);
  return row;
};

/** The template's versions, newest first. */
export const versionsOf = async (db: pg.Pool | pg.PoolClient, templateId: string): Promise<VersionRow[]> =>
  (
    await db.query<VersionRow>('SELECT * FROM template_versions WHERE template_id = $1 ORDER BY version DESC', [
      templateId,
    ])
  ).rows;

/** One version (the latest when none is named). */
export const versionOf = async (
  db: pg.Pool | pg.PoolClient,
  templateId: string,
  version?: number,
): Promise<VersionRow> => {
  const row = (
    await db.query<VersionRow>(
      version === undefined
        ? 'SELECT * FROM template_versions WHERE template_id = $1 ORDER BY version DESC LIMIT 1'
        : 'SELECT * FROM template_versions WHERE template_id = $1 AND version = $2',
      version === undefined ? [templateId] : [templateId, version],
    )
  ).rows[0];
  if (!row)
    throw new NotFound(`the template has no version ${version ?? ''}`.trim(), [
      { path: 'version', message: 'no such version' },
    ]);
  return row;
};

export const preApprovalsOf = async (db: pg.Pool | pg.PoolClient, versionIds: string[]): Promise<PreApprovalRow[]> =>
  (
    await db.query<PreApprovalRow>(
      'SELECT * FROM template_preapprovals WHERE version_id = ANY($1::uuid[]) ORDER BY created_at DESC',
      [versionIds],
    )
  ).rows;

/** The version's pre-approval, if one holds. */
export const livePreApproval = async (db: pg.Pool | pg.PoolClient, versionId: string): Promise<PreApprovalRow | null> =>
  (
    await db.query<PreApprovalRow>('SELECT * FROM template_preapprovals WHERE version_id = $1 AND voided_at IS NULL', [
      versionId,
    ])
  ).rows[0] ?? null;

export const insertTemplate = async (
  db: pg.PoolClient,
  t: { tenantId: string; name: string; description: string; createdBy: string },
): Promise<string> => {
  const id = randomUUID();
  await db.query('INSERT INTO templates (id, tenant_id, name, description, created_by) VALUES ($1, $2, $3, $4, $5)', [
    id,
    t.tenantId,
    t.name,
    t.description,
    t.createdBy,
  ]);
  return id;
};

/** Appends the next version; the template row is locked so two edits never take one number. */
export const insertVersion = async (
  db: pg.PoolClient,
  tenantId: string,
  templateId: string,
  v: NewVersion,
): Promise<number> => {
  await db.query('SELECT 1 FROM templates WHERE id = $1 FOR UPDATE', [templateId]);
  const next =
    ((
      await db.query<{ n: number | null }>('SELECT max(version) AS n FROM template_versions WHERE template_id = $1', [
        templateId,
      ])
    ).rows[0]?.n ?? 0) + 1;
  await db.query(
    `INSERT INTO template_versions (id, template_id, tenant_id, version, plan, parameters, run_role, approval_mode, risk, shape_hash, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [
      randomUUID(),
      templateId,
      tenantId,
      next,
      JSON.stringify(v.plan),
      JSON.stringify(v.parameters),
      v.runRole,
      v.approvalMode,
      v.risk,
      v.shapeHash,
      v.createdBy,
    ],
  );
  return next;
};

/** Voids every live pre-approval of the template's versions; answers how many. */
export const voidPreApprovals = async (db: pg.PoolClient, templateId: string, reason: string): Promise<number> =>
  (
    await db.query(
      `UPDATE template_preapprovals SET voided_at = now(), void_reason = $2
        WHERE voided_at IS NULL AND version_id IN (SELECT id FROM template_versions WHERE template_id = $1)`,
      [templateId, reason],
    )
  ).rowCount ?? 0;

/** Runs `work` in one transaction. */
export const inTransaction = async <T>(pool: pg.Pool, work: (db: pg.PoolClient) => Promise<T>): Promise<T> => {
  const db = await pool.connect();
  try {
    await db.query('BEGIN');
    const out = await work(db);
    await db.query('COMMIT');
    return out;
  } catch (err) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    db.release();
  }
};
