/**
 * Temporal message and search-attribute definitions. A subpath of its own (`@opsc/contracts/temporal`)
 * so that consumers of the plain schemas (the web app) do not load the workflow SDK.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { JobProgress } from './progress.js';
import type { JobStatus } from './results.js';

/** The workflow type that runs a job. */
export const RUN_JOB_WORKFLOW = 'runJob';

export const progressQuery = defineQuery<JobProgress>('progress');

/** Who asks, as the API authenticated them; the workflow checks roles and four-eyes itself. */
export interface Actor {
  by: string;
  role: 'viewer' | 'operator' | 'approver' | 'admin';
  comment?: string;
  sourceIp?: string;
}

export interface ApproveArgs extends Actor {
  /** The plan hash the approver was shown: a different one means the plan is not what they saw. */
  planHash: string;
}
export interface CancelArgs extends Actor {
  /** `finish`: let steps in flight end, then compensate; `interrupt`: cancel them too. */
  mode?: 'finish' | 'interrupt';
}
export interface DecideArgs extends Actor {
  choice: 'continue' | 'rollback';
}

/**
 * What every control update answers: the job's status after it. A refused update fails with an
 * ApplicationFailure typed `Forbidden`, `Conflict` or `ValidationFailed` (ErrorType), with the reason.
 */
export interface ControlAnswer {
  status: JobStatus;
  message: string;
}

export const approveUpdate = defineUpdate<ControlAnswer, [ApproveArgs]>('approve');
export const rejectUpdate = defineUpdate<ControlAnswer, [Actor]>('reject');
export const pauseUpdate = defineUpdate<ControlAnswer, [Actor]>('pause');
export const resumeUpdate = defineUpdate<ControlAnswer, [Actor]>('resume');
export const cancelUpdate = defineUpdate<ControlAnswer, [CancelArgs]>('cancel');
export const decideUpdate = defineUpdate<ControlAnswer, [DecideArgs]>('decide');

/** Custom search attributes, registered on the namespace when the platform starts. */
export const SearchAttribute = {
  jobId: defineSearchAttributeKey('OpscJobId', SearchAttributeType.KEYWORD),
  tenant: defineSearchAttributeKey('OpscTenant', SearchAttributeType.KEYWORD),
  requester: defineSearchAttributeKey('OpscRequester', SearchAttributeType.KEYWORD),
  targetGroup: defineSearchAttributeKey('OpscTargetGroup', SearchAttributeType.KEYWORD),
  risk: defineSearchAttributeKey('OpscRisk', SearchAttributeType.KEYWORD),
  status: defineSearchAttributeKey('OpscStatus', SearchAttributeType.KEYWORD),
  step: defineSearchAttributeKey('OpscStep', SearchAttributeType.KEYWORD),
} as const;
