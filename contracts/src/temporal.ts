/**
 * Temporal message and search-attribute definitions. A subpath of its own (`@opsc/contracts/temporal`)
 * so that consumers of the plain schemas (the web app) do not load the workflow SDK.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { JobProgress } from './progress.js';
import type { ControlAnswer } from './api/jobs.js';

/** The workflow type that runs a job. */
export const RUN_JOB_WORKFLOW = 'runJob';

export const progressQuery = defineQuery<JobProgress>('progress');

/**
 * What every control update carries: the id of the decision the API recorded (`job_decisions`) with
 * the actor it authenticated. The workflow confirms that row through an activity and acts on the row
 * alone: anything else an update says (a user, a role) is not believed, since anyone who can reach
 * Temporal can send an update.
 */
export interface DecisionRef {
  decisionId: string;
}

/**
 * What every control update answers: the job's status after it (the API answers with it as it is,
 * so it is declared with the API's answers, in api/jobs.ts). A refused update fails with an
 * ApplicationFailure typed `Forbidden`, `Conflict` or `ValidationFailed` (ErrorType), with the reason.
 */
export type { ControlAnswer };

export const approveUpdate = defineUpdate<ControlAnswer, [DecisionRef]>('approve');
export const rejectUpdate = defineUpdate<ControlAnswer, [DecisionRef]>('reject');
export const pauseUpdate = defineUpdate<ControlAnswer, [DecisionRef]>('pause');
export const resumeUpdate = defineUpdate<ControlAnswer, [DecisionRef]>('resume');
export const cancelUpdate = defineUpdate<ControlAnswer, [DecisionRef]>('cancel');
export const decideUpdate = defineUpdate<ControlAnswer, [DecisionRef]>('decide');

/** Custom search attributes, registered on the namespace when the platform starts. */
export const SearchAttribute = {
  jobId: defineSearchAttributeKey('OpscJobId', SearchAttributeType.KEYWORD),
  tenant: defineSearchAttributeKey('OpscTenant', SearchAttributeType.KEYWORD),
  requester: defineSearchAttributeKey('OpscRequester', SearchAttributeType.KEYWORD),
  targetGroup: defineSearchAttributeKey('OpscTargetGroup', SearchAttributeType.KEYWORD),
  risk: defineSearchAttributeKey('OpscRisk', SearchAttributeType.KEYWORD),
  status: defineSearchAttributeKey('OpscStatus', SearchAttributeType.KEYWORD),
  step: defineSearchAttributeKey('OpscStep', SearchAttributeType.KEYWORD),
  /** What started the job: `manual`, `retry:<job>`, `template:<id>`, `schedule:<id>` or `trigger:<id>`. */
  origin: defineSearchAttributeKey('OpscOrigin', SearchAttributeType.KEYWORD),
  /** How the job runs its plan: `run`, or `check` (changes nothing, reports what would change). */
  mode: defineSearchAttributeKey('OpscMode', SearchAttributeType.KEYWORD),
} as const;

/**
 * The sink a job's workflow pushes its progress through after each activation that could change it
 * (the same JSON the `progress` query answers), so a live stream served by the process that runs the
 * workflow needs no query (docs/live-output.md). Never called on replay.
 */
// A type, not an interface: the SDK's `Sinks` wants an index signature.
export type JobProgressSinks = {
  /** `changed`: the job's progress now; `held`: it changed, and the snapshot waits for the next push. */
  jobProgress: { changed(json: string): void; held(): void };
};
