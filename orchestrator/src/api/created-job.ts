import type { JobCreated, JobLinks, Sent } from '@opsc/contracts/api';
import type { SubmittedJob } from '../jobs/submit-job.js';
import type { ApiDeps } from './deps.js';

/** Where a job's record, live events and results are, and its workflow in Temporal UI if there is one. */
export const jobLinks = (deps: ApiDeps, id: string): JobLinks => ({
  self: `/api/jobs/${id}`,
  events: `/api/jobs/${id}/events`,
  results: `/api/jobs/${id}/results`,
  temporalUi: deps.temporalUiUrl
    ? `${deps.temporalUiUrl}/namespaces/${encodeURIComponent(deps.namespace)}/workflows/${id}`
    : null,
});

/** The answer about a job just submitted (by a person, a template run, a retry). */
export const createdJob = (deps: ApiDeps, job: SubmittedJob): Sent<JobCreated> => ({
  id: job.id,
  status: 'queued',
  planHash: job.planHash,
  risk: job.risk,
  approvalRequired: job.approvalRequired,
  mode: job.mode,
  summary: job.summary,
  links: jobLinks(deps, job.id),
});
