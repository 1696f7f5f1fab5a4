import { ErrorType, fillTemplatePlan, riskWithin, type FieldIssue, type JobOrigin } from '@opsc/contracts';
import { templateShapeHash } from '@opsc/contracts/plan-hash';
import { recordAudit } from '../audit.js';
import { DomainError, InvalidInput } from '../errors.js';
import { atLeast } from '../identity/roles.js';
import type { Caller, JobDeps } from '../jobs/deps.js';
import { recordDecision } from '../jobs/decision-store.js';
import { sendDecision } from '../jobs/job-control.js';
import { tenantSettings } from '../jobs/job-store.js';
import { planningContext } from '../jobs/planning-context.js';
import { readyPlan } from '../jobs/ready-plan.js';
import { submitJob, type SubmittedJob } from '../jobs/submit-job.js';
import { inTransaction, livePreApproval, templateOf, versionOf, type VersionRow } from './template-store.js';

/** What a run asks for: a version (the latest when absent) and the parameters' values. */
export interface TemplateRunRequest {
  version?: number | undefined;
  params: Record<string, unknown>;
  /** The job's id, decided by the server (a schedule's action derives it from its workflow id). */
  jobId?: string | undefined;
}

/**
 * Who or what started the run: a person through the API (`template`), a schedule or a trigger. The
 * job's origin is this with the template's id and the version run (`JobOrigin`).
 */
export type TemplateRunOrigin =
  { kind: 'template' } | { kind: 'schedule'; scheduleId: string } | { kind: 'trigger'; triggerId: string };

export interface TemplateRunResult {
  job: SubmittedJob;
  template: { id: string; version: number };
  /** Whether the version's pre-approval approved the job, and why not when it did not. */
  preApproval: { applied: boolean; reason: string | null };
}

/** Where each bound site is, as the validator names it, and the parameter that fills it. */
const sitesOf = (v: VersionRow): Map<string, string> => {
  const sites = new Map<string, string>();
  for (const p of v.parameters)
    for (const b of p.binds) {
      const i = v.plan.steps.findIndex((s) => s.id === b.step);
      sites.set('param' in b ? `draft.steps.${i}.params.${b.param}` : `draft.steps.${i}.targets`, p.name);
    }
  return sites;
};

/** The validator's issues, those at a parameter's site renamed `params.<name>` (the field the person filled). */
const renamed = (issues: FieldIssue[], sites: Map<string, string>): FieldIssue[] =>
  issues.map((issue) => {
    for (const [site, name] of sites)
      if (issue.path === site || issue.path.startsWith(`${site}.`)) return { ...issue, path: `params.${name}` };
    return issue;
  });

/**
 * Applies the version's pre-approval to a job that waits for approval: a decision recorded in the
 * pre-approver's name (their current role), pointing at the pre-approval, sent to the workflow like
 * any approval. The workflow confirms it and checks its rules (role, four eyes, plan hash); the
 * executor's gate counts it only while the pre-approval holds. Under four eyes the pre-approver's
 * own runs are not pre-approved: they wait for another approver, as any job of theirs would.
 */
const applyPreApproval = async (
  deps: JobDeps,
  caller: Caller,
  template: { id: string; name: string },
  v: VersionRow,
  job: SubmittedJob,
): Promise<TemplateRunResult['preApproval']> => {
  const live = await livePreApproval(deps.pool, v.id);
  if (!live) return { applied: false, reason: `version ${v.version} is not pre-approved` };
  // What was pre-approved is the version at its risk: a run whose values make it riskier (a read
  // that became a change) waits for a person, whatever the shape.
  if (!riskWithin(job.risk, v.risk))
    return {
      applied: false,
      reason: `this run is ${job.risk}, above the ${v.risk} risk version ${v.version} was pre-approved at`,
    };
  if (
    live.shape_hash !== v.shape_hash ||
    templateShapeHash({ plan: v.plan, parameters: v.parameters }) !== v.shape_hash
  )
    return { applied: false, reason: "the pre-approval does not match the version's shape" };
  const { fourEyes } = await tenantSettings(deps.pool, caller.tenantId);
  if (fourEyes && live.approved_by === caller.username)
    return {
      applied: false,
      reason: `four-eyes rule: ${caller.username} pre-approved this template; another approver approves the run`,
    };
  const decisionId = await inTransaction(deps.pool, async (db) => {
    // The pre-approval and its approver as they are now, held until the decision is on record.
    const { rows } = await db.query<{ role: 'approver' | 'admin' }>(
      `SELECT u.role FROM template_preapprovals p JOIN users u ON u.id = p.user_id AND u.tenant_id = p.tenant_id AND u.username = p.approved_by
        WHERE p.id = $1 AND p.voided_at IS NULL AND NOT u.disabled AND u.role IN ('approver', 'admin') FOR SHARE OF p`,
      [live.id],
    );
    const role = rows[0]?.role;
    if (!role) return null;
    return recordDecision(db, {
      jobId: job.id,
      tenantId: caller.tenantId,
      userId: live.user_id,
      actor: live.approved_by,
      role,
      action: 'approve',
      planHash: job.planHash,
      comment: `pre-approved: template ${template.id} v${v.version}`,
      mode: null,
      choice: null,
      sourceIp: caller.sourceIp ?? null,
      preapprovalId: live.id,
    });
  });
  if (!decisionId)
    return { applied: false, reason: `${live.approved_by} can no longer approve, or the pre-approval was voided` };
  try {
    await sendDecision(deps, job.id, 'approve', decisionId);
    return { applied: true, reason: null };
  } catch (err) {
    deps.log.warn('pre-approval not applied', { jobId: job.id, error: (err as Error).message });
    return { applied: false, reason: (err as Error).message };
  }
};

/**
 * Checks what a run would be, without running it: the version exists, the values fit its typed
 * parameters and the filled plan validates against the tenant's inventory and catalog as they are
 * now. A schedule's parameters are checked this way when it is saved. Issues name `params.<name>`.
 */
export const checkTemplateRun = async (
  deps: JobDeps,
  tenantId: string,
  templateId: string,
  request: TemplateRunRequest,
): Promise<VersionRow> => {
  const template = await templateOf(deps.pool, tenantId, templateId);
  const v = await versionOf(deps.pool, template.id, request.version);
  const filled = fillTemplatePlan(v.plan, v.parameters, request.params);
  if (!filled.draft) throw new InvalidInput('the parameters do not fit the template', filled.issues);
  try {
    await readyPlan(planningContext(deps, tenantId), { draft: filled.draft });
  } catch (err) {
    if (err instanceof DomainError && err.issues)
      throw new DomainError(err.type, err.message, renamed(err.issues, sitesOf(v)));
    throw err;
  }
  return v;
};

/**
 * Runs a template: the caller's role is checked against the version's, the values against the
 * parameters' schemas, and the filled draft goes through the normal submission (planner's
 * validator, risk computed from the actions, targets resolved against the tenant's inventory).
 * Issues at a parameter's site name `params.<name>`. Schedules and triggers call this too.
 */
export const runTemplate = async (
  deps: JobDeps,
  caller: Caller,
  templateId: string,
  request: TemplateRunRequest,
  source: TemplateRunOrigin = { kind: 'template' },
): Promise<TemplateRunResult> => {
  const template = await templateOf(deps.pool, caller.tenantId, templateId);
  const v = await versionOf(deps.pool, template.id, request.version);
  // An older version runs under the latest version's role too: raising the role closes every version.
  const latest = request.version === undefined ? v : await versionOf(deps.pool, template.id, undefined);
  for (const role of new Set([v.run_role, latest.run_role]))
    if (!atLeast(caller.role, role))
      throw new DomainError(
        ErrorType.Forbidden,
        `running template "${template.name}" needs the ${role} role; you are ${caller.role}`,
      );
  const filled = fillTemplatePlan(v.plan, v.parameters, request.params);
  if (!filled.draft) throw new InvalidInput('the parameters do not fit the template', filled.issues);
  const draft = filled.draft as { policies?: Record<string, unknown> };
  if (v.approval_mode === 'required') draft.policies = { ...draft.policies, approval: 'required' };
  const origin: JobOrigin = { ...source, templateId: template.id, version: v.version };
  let job: SubmittedJob;
  try {
    job = await submitJob(deps, caller, { draft }, origin, request.jobId);
  } catch (err) {
    if (err instanceof DomainError && err.issues)
      throw new DomainError(err.type, err.message, renamed(err.issues, sitesOf(v)));
    throw err;
  }
  const preApproval = job.approvalRequired
    ? await applyPreApproval(deps, caller, template, v, job)
    : { applied: false, reason: null };
  await recordAudit(deps.pool, {
    tenantId: caller.tenantId,
    actor: caller.username,
    action: 'template.run',
    objectType: 'template',
    objectId: template.id,
    jobId: job.id,
    planHash: job.planHash,
    ...(caller.sourceIp && { sourceIp: caller.sourceIp }),
    details: {
      name: template.name,
      version: v.version,
      origin,
      params: Object.keys(filled.values),
      preApproved: preApproval.applied,
    },
  });
  return { job, template: { id: template.id, version: v.version }, preApproval };
};
