import { randomUUID } from 'node:crypto';
import { validatePlan } from '@opsc/planning';
import { templateShapeHash } from '@opsc/contracts/plan-hash';
import { ErrorType, type FieldIssue } from '@opsc/contracts';
import type {
  CreateTemplateBody,
  NewTemplateVersionBody,
  PreApproveTemplateBody,
  Sent,
  TemplateDetail,
  TemplateList,
  TemplateVersionView,
} from '@opsc/contracts/api';
import { recordAudit } from '../audit.js';
import { atLeast } from '../identity/roles.js';
import { Conflict, DomainError, InvalidPlan, uniqueNameOf } from '../errors.js';
import type { Caller, JobDeps } from '../jobs/deps.js';
import { tenantSettings } from '../jobs/job-store.js';
import { planningContext } from '../jobs/planning-context.js';
import { deriveTemplate } from './derive-template.js';
import {
  inTransaction,
  insertTemplate,
  insertVersion,
  livePreApproval,
  preApprovalsOf,
  templateOf,
  versionOf,
  versionsOf,
  voidPreApprovals,
  type NewVersion,
  type TemplateRow,
} from './template-store.js';

type Deps = Pick<JobDeps, 'pool' | 'planning' | 'platformServices'>;
type Content = Pick<CreateTemplateBody, 'draft' | 'parameters' | 'runRole' | 'approvalMode'>;

/** The draft validated as it stands (every plan from any source passes the one validator), then made a template. */
const contentOf = async (deps: Deps, caller: Caller, body: Content): Promise<NewVersion> => {
  // Saving a template needs no executor: whether its pools are served is asked when it runs.
  // Saving a template runs nothing: no ETA is asked of the history.
  const context = { ...planningContext({ ...deps, pools: undefined }, caller.tenantId), estimatePlan: undefined };
  const v = await validatePlan(body.draft, context);
  if (v.status !== 'ready' || !v.draft || !v.summary) {
    const issues: FieldIssue[] = [...v.issues, ...v.missing.map((m) => ({ path: m.path, message: m.question }))];
    throw new InvalidPlan(
      'the plan does not validate; a template is saved from a plan that does',
      issues.map((i) => ({ path: i.path ? `draft.${i.path}` : 'draft', message: i.message })),
    );
  }
  const derived = deriveTemplate(v.draft, body.parameters, (name) => deps.planning.catalog.get(name));
  if (derived.issues.length) throw new InvalidPlan('the template parameters do not fit the plan', derived.issues);
  return {
    plan: derived.plan,
    parameters: derived.parameters,
    runRole: body.runRole,
    approvalMode: body.approvalMode,
    risk: v.summary.risk,
    shapeHash: templateShapeHash({ plan: derived.plan, parameters: derived.parameters }),
    createdBy: caller.username,
  };
};

const uniqueName = uniqueNameOf('template');

/** The template with its versions and their pre-approvals, as the API answers it. */
export const templateDetail = async (deps: Pick<JobDeps, 'pool'>, t: TemplateRow): Promise<Sent<TemplateDetail>> => {
  const versions = await versionsOf(deps.pool, t.id);
  const approvals = await preApprovalsOf(
    deps.pool,
    versions.map((v) => v.id),
  );
  const views: Sent<TemplateVersionView>[] = versions.map((v) => ({
    version: v.version,
    plan: v.plan,
    parameters: v.parameters,
    runRole: v.run_role,
    approvalMode: v.approval_mode,
    risk: v.risk,
    shapeHash: v.shape_hash,
    createdBy: v.created_by,
    createdAt: v.created_at,
    preApprovals: approvals
      .filter((a) => a.version_id === v.id)
      .map((a) => ({
        id: a.id,
        by: a.approved_by,
        at: a.created_at,
        shapeHash: a.shape_hash,
        comment: a.comment,
        voidedAt: a.voided_at,
        voidReason: a.void_reason,
      })),
  }));
  const latest = versions[0]!;
  return {
    id: t.id,
    name: t.name,
    description: t.description,
    createdBy: t.created_by,
    createdAt: t.created_at,
    latestVersion: latest.version,
    risk: latest.risk,
    runRole: latest.run_role,
    approvalMode: latest.approval_mode,
    preApproved: views[0]?.preApprovals.some((a) => a.voidedAt === null) ?? false,
    versions: views,
  };
};

export const listTemplates = async (deps: Pick<JobDeps, 'pool'>, tenantId: string): Promise<Sent<TemplateList>> => {
  const { rows } = await deps.pool.query(
    `SELECT t.id, t.name, t.description, t.created_by, t.created_at, v.version, v.risk, v.run_role, v.approval_mode,
            EXISTS (SELECT 1 FROM template_preapprovals p WHERE p.version_id = v.id AND p.voided_at IS NULL) AS pre_approved
       FROM templates t
       JOIN LATERAL (SELECT * FROM template_versions WHERE template_id = t.id ORDER BY version DESC LIMIT 1) v ON true
      WHERE t.tenant_id = $1 AND t.deleted_at IS NULL ORDER BY lower(t.name) LIMIT 1000`,
    [tenantId],
  );
  return {
    templates: rows.map((r) => ({
      id: r.id,
      name: r.name,
      description: r.description,
      createdBy: r.created_by,
      createdAt: r.created_at,
      latestVersion: r.version,
      risk: r.risk,
      runRole: r.run_role,
      approvalMode: r.approval_mode,
      preApproved: r.pre_approved,
    })),
  };
};

export const createTemplate = async (deps: Deps, caller: Caller, body: CreateTemplateBody): Promise<TemplateRow> => {
  const content = await contentOf(deps, caller, body);
  const id = await inTransaction(deps.pool, async (db) => {
    const id = await insertTemplate(db, {
      tenantId: caller.tenantId,
      name: body.name,
      description: body.description,
      createdBy: caller.username,
    }).catch((err: unknown) => uniqueName(err, body.name));
    await insertVersion(db, caller.tenantId, id, content);
    await recordAudit(db, {
      tenantId: caller.tenantId,
      actor: caller.username,
      action: 'template.create',
      objectType: 'template',
      objectId: id,
      ...(caller.sourceIp && { sourceIp: caller.sourceIp }),
      details: { name: body.name, version: 1, shapeHash: content.shapeHash, parameters: content.parameters.length },
    });
    return id;
  });
  return templateOf(deps.pool, caller.tenantId, id);
};

/**
 * Who may change a template (a new version, a delete): its author or an admin. Others' edits would
 * change what the author's triggers and schedules run, in the author's name.
 */
const mayChange = (caller: Caller, t: TemplateRow, what: string): void => {
  if (caller.username !== t.created_by && !atLeast(caller.role, 'admin'))
    throw new DomainError(
      ErrorType.Forbidden,
      `only its author (${t.created_by}) or an admin may ${what} template "${t.name}"`,
    );
};

/** Any edit: a new version; the template's pre-approval is voided in the same transaction. */
export const newTemplateVersion = async (
  deps: Deps,
  caller: Caller,
  id: string,
  body: NewTemplateVersionBody,
): Promise<TemplateRow> => {
  const t = await templateOf(deps.pool, caller.tenantId, id);
  mayChange(caller, t, 'edit');
  const content = await contentOf(deps, caller, body);
  await inTransaction(deps.pool, async (db) => {
    await templateOf(db, caller.tenantId, t.id);
    const version = await insertVersion(db, caller.tenantId, t.id, content);
    const voided = await voidPreApprovals(db, t.id, `template edited: version ${version} saved by ${caller.username}`);
    if (body.description !== undefined)
      await db.query('UPDATE templates SET description = $2 WHERE id = $1', [t.id, body.description]);
    await recordAudit(db, {
      tenantId: caller.tenantId,
      actor: caller.username,
      action: 'template.update',
      objectType: 'template',
      objectId: t.id,
      ...(caller.sourceIp && { sourceIp: caller.sourceIp }),
      details: { name: t.name, version, shapeHash: content.shapeHash, preApprovalsVoided: voided },
    });
  });
  return templateOf(deps.pool, caller.tenantId, t.id);
};

export const deleteTemplate = async (deps: Pick<JobDeps, 'pool'>, caller: Caller, id: string): Promise<void> => {
  await inTransaction(deps.pool, async (db) => {
    const t = await templateOf(db, caller.tenantId, id);
    mayChange(caller, t, 'delete');
    await db.query('UPDATE templates SET deleted_at = now() WHERE id = $1', [t.id]);
    const voided = await voidPreApprovals(db, t.id, `template deleted by ${caller.username}`);
    await recordAudit(db, {
      tenantId: caller.tenantId,
      actor: caller.username,
      action: 'template.delete',
      objectType: 'template',
      objectId: t.id,
      ...(caller.sourceIp && { sourceIp: caller.sourceIp }),
      details: { name: t.name, preApprovalsVoided: voided },
    });
  });
};

/**
 * An approver approves every run of the latest version in advance, bound to the shape hash they were
 * shown. A change template is never pre-approved by the author of the version where the tenant
 * wants four eyes; a read-only one may be.
 */
export const preApproveTemplate = async (
  deps: Pick<JobDeps, 'pool'>,
  caller: Caller,
  id: string,
  body: PreApproveTemplateBody,
): Promise<TemplateRow> => {
  const settings = await tenantSettings(deps.pool, caller.tenantId);
  return inTransaction(deps.pool, async (db) => {
    const t = await templateOf(db, caller.tenantId, id);
    await db.query('SELECT 1 FROM templates WHERE id = $1 FOR UPDATE', [t.id]);
    const latest = await versionOf(db, t.id);
    if (body.version !== latest.version)
      throw new Conflict(`version ${body.version} is not the latest (${latest.version}); review the latest`);
    if (body.shapeHash !== latest.shape_hash)
      throw new Conflict('the template is no longer the one shown (its shape hash differs); review it again');
    if (templateShapeHash({ plan: latest.plan, parameters: latest.parameters }) !== latest.shape_hash)
      throw new DomainError(ErrorType.Internal, 'the stored version does not match its shape hash');
    if (settings.fourEyes && latest.risk !== 'read' && latest.created_by === caller.username)
      throw new DomainError(
        ErrorType.Forbidden,
        `four-eyes rule: ${caller.username} saved version ${latest.version} and cannot pre-approve it`,
      );
    if (await livePreApproval(db, latest.id)) throw new Conflict(`version ${latest.version} is pre-approved already`);
    const preApprovalId = randomUUID();
    await db.query(
      `INSERT INTO template_preapprovals (id, version_id, tenant_id, shape_hash, user_id, approved_by, role, comment)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        preApprovalId,
        latest.id,
        caller.tenantId,
        latest.shape_hash,
        caller.userId,
        caller.username,
        caller.role,
        body.comment || null,
      ],
    );
    await recordAudit(db, {
      tenantId: caller.tenantId,
      actor: caller.username,
      action: 'template.pre-approve',
      objectType: 'template',
      objectId: t.id,
      planHash: latest.shape_hash,
      ...(caller.sourceIp && { sourceIp: caller.sourceIp }),
      details: { name: t.name, version: latest.version, preApprovalId, risk: latest.risk },
    });
    return t;
  });
};
