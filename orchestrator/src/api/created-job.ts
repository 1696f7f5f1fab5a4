import type { JobCreated, JobLinks, Sent } from '@opsc/contracts/api';
import type { SubmittedJob } from '../jobs/submit-job.js';
import type { ApiDeps } from './deps.js';

/** A trace id as tracing writes it: nothing else is put into a link. */
const TRACE_ID = /^[0-9a-f]{32}$/;

/**
 * Where a job's record, live events and results are, its workflow in Temporal UI and its trace in a
 * trace viewer, when there are those.
 */
export const jobLinks = (deps: ApiDeps, id: string, traceId?: string | null): JobLinks => ({
  self: `/api/jobs/${id}`,
  events: `/api/jobs/${id}/events`,
  results: `/api/jobs/${id}/results`,
  temporalUi: deps.temporalUiUrl
    ? `${deps.temporalUiUrl}/namespaces/${encodeURIComponent(deps.namespace)}/workflows/${id}`
    : null,
  traceUi:
    deps.traceUiUrl && traceId && TRACE_ID.test(traceId) ? deps.traceUiUrl.replaceAll('{traceId}', traceId) : null,
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
