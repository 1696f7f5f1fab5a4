/**
 * Temporal message and search-attribute definitions. A subpath of its own (`@opsc/contracts/temporal`)
 * so that consumers of the plain schemas (the web app) do not load the workflow SDK.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery } from '@temporalio/workflow';
import type { JobProgress } from './progress.js';

/** The workflow type that runs a job. */
export const RUN_JOB_WORKFLOW = 'runJob';

export const progressQuery = defineQuery<JobProgress>('progress');

/** Custom search attributes, registered on the namespace when the platform starts. */
export const SearchAttribute = {
  jobId: defineSearchAttributeKey('OpscJobId', SearchAttributeType.KEYWORD),
  requester: defineSearchAttributeKey('OpscRequester', SearchAttributeType.KEYWORD),
  targetGroup: defineSearchAttributeKey('OpscTargetGroup', SearchAttributeType.KEYWORD),
  risk: defineSearchAttributeKey('OpscRisk', SearchAttributeType.KEYWORD),
  status: defineSearchAttributeKey('OpscStatus', SearchAttributeType.KEYWORD),
  step: defineSearchAttributeKey('OpscStep', SearchAttributeType.KEYWORD),
} as const;
