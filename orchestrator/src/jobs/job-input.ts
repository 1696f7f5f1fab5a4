import {
  MANUAL_ORIGIN,
  originKeyword,
  TaskQueue,
  type ApprovalPolicy,
  type JobMode,
  type JobOrigin,
  type Plan,
  type RunJobInput,
} from '@opsc/contracts';
import { SearchAttribute } from '@opsc/contracts/temporal';
import type { WorkflowStartOptions } from '@temporalio/client';
import { Conflict } from '../errors.js';
import type { JobTargets } from '../inventory/step-targets.js';
import type { TenantSettings } from './job-store.js';
import type { ReadyPlan } from './ready-plan.js';

/** The group most of the plan's steps act on, for search and history filters. */
export const mainGroup = (plan: Plan): string | null =>
  plan.steps.find((s) => s.targets?.group)?.targets?.group ?? null;

/**
 * The caller reviewed one plan and submits it expecting that plan: when planning again (the
 * inventory or catalog changed) gives another, the job is refused rather than run unseen.
 */
export const checkExpectedHash = (expected: string | undefined, hash: string): void => {
  if (expected && expected !== hash) {
    throw new Conflict(
      `the plan is no longer the one shown (hash ${expected.slice(0, 12)}…, now ${hash.slice(0, 12)}…): the inventory or catalog changed; review it again`,
    );
  }
};

/**
 * How the job's approval works: whether it needs one, and why, is the server's verdict on the plan
 * (never the body's); four eyes and the timeout are the tenant's settings at submission.
 */
export const approvalPolicy = (
  ready: Pick<ReadyPlan, 'approvalRequired' | 'approvalReasons'>,
  settings: TenantSettings,
): ApprovalPolicy => ({
  required: ready.approvalRequired,
  reasons: ready.approvalReasons,
  fourEyes: settings.fourEyes,
  timeoutSeconds: settings.approvalTimeoutSeconds,
});

export interface JobFacts {
  id: string;
  tenantId: string;
  planHash: string;
  requestedBy: string;
  targets: JobTargets;
  targetGroup: string | null;
  /** `check` needs no approval: it changes nothing (the executor admits only the steps' checks). */
  mode: JobMode;
}

/** The workflow's single argument: the plan, its verdict, where it runs and how it is approved. */
export const runJobInput = (
  job: JobFacts,
  ready: ReadyPlan,
  settings: TenantSettings,
  options: RunJobInput['options'],
): RunJobInput => ({
  jobId: job.id,
  tenantId: job.tenantId,
  plan: ready.plan,
  planHash: job.planHash,
  risk: ready.risk,
  targetGroup: job.targetGroup,
  ...job.targets,
  requestedBy: job.requestedBy,
  approval:
    job.mode === 'check'
      ? { ...approvalPolicy(ready, settings), required: false, reasons: [] }
      : approvalPolicy(ready, settings),
  ...(job.mode === 'check' && { mode: job.mode }),
  options,
});

/** How the job's workflow starts: its id is the job's, and search attributes and memo describe it for Temporal's UI. */
export const startOptions = (
  input: RunJobInput,
  summary: ReadyPlan['summary'],
  origin: JobOrigin = MANUAL_ORIGIN,
): WorkflowStartOptions => {
  const { jobId: id, plan, planHash: hash, risk, targetGroup } = input;
  return {
    workflowId: id,
    taskQueue: TaskQueue.orchestrator,
    args: [input],
    typedSearchAttributes: [
      { key: SearchAttribute.jobId, value: id },
      { key: SearchAttribute.tenant, value: input.tenantId },
      { key: SearchAttribute.requester, value: input.requestedBy },
      { key: SearchAttribute.risk, value: risk },
      { key: SearchAttribute.status, value: 'queued' },
      { key: SearchAttribute.origin, value: originKeyword(origin) },
      { key: SearchAttribute.mode, value: input.mode ?? 'run' },
      ...(targetGroup ? [{ key: SearchAttribute.targetGroup, value: targetGroup }] : []),
    ],
    memo: {
      name: plan.name,
      planHash: hash,
      risk,
      approvalRequired: input.approval.required,
      origin,
      mode: input.mode ?? 'run',
      steps: plan.steps.map((s) => s.name),
      targets: input.targets.length,
      ...(summary && { summary: summary.bullets }),
    },
  };
};
