import { isFinalJobStatus, type JobProgress } from '@opsc/contracts';
import { progressQuery } from '@opsc/contracts/temporal';
import { NotFound } from '../errors.js';
import { withTimeout } from '../with-timeout.js';
import type { JobDeps } from './deps.js';
import { withPoolWaits } from './pool-waits.js';
import {
  findJob,
  findStepResults,
  listJobs,
  type JobFilter,
  type JobListRow,
  type JobRow,
  type OrderedStepResultRow,
  type StepResultFilter,
} from './job-store.js';
import { decodeCursor } from './result-cursor.js';

const JOB_ID = /^job-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A query needs a live orchestrator worker; do not hang the API when there is none. */
const QUERY_TIMEOUT_MS = 3_000;

/** The tenant's job by id; another tenant's job is answered exactly like a missing one. */
export const jobOf = async (deps: Pick<JobDeps, 'pool'>, tenantId: string, id: string): Promise<JobRow> => {
  if (!JOB_ID.test(id)) throw new NotFound(`no job ${id}`);
  const job = await findJob(deps.pool, id, tenantId);
  if (!job) throw new NotFound(`no job ${id}`);
  return job;
};

/** A tenant's jobs, newest first, filtered: one page. */
export const jobList = (deps: Pick<JobDeps, 'pool'>, tenantId: string, filter: JobFilter): Promise<JobListRow[]> =>
  listJobs(deps.pool, tenantId, filter);

export interface JobDetail {
  job: JobRow;
  /** The workflow's own account, when it answered its query in time. */
  progress: JobProgress | null;
  progressError: string | null;
}

/** The job's record and, from its workflow, its live progress. */
export const jobDetail = async (
  deps: Pick<JobDeps, 'pool' | 'client' | 'pools'>,
  tenantId: string,
  id: string,
): Promise<JobDetail> => {
  let job = await jobOf(deps, tenantId, id);
  let progress: JobProgress | null = null;
  let progressError: string | null = null;
  try {
    progress = await withPoolWaits(
      await withTimeout(
        deps.client.workflow.getHandle(job.id).query(progressQuery),
        QUERY_TIMEOUT_MS,
        'progress query',
      ),
      tenantId,
      job.resolved_targets.targets,
      deps.pools,
    );
  } catch (err) {
    progressError = (err as Error).message;
  }
  // The workflow shows its end only after writing it, but the row was read before the query:
  // read it again so status, outcome and finish time agree.
  if (progress && isFinalJobStatus(progress.status) && !isFinalJobStatus(job.status))
    job = await jobOf(deps, tenantId, job.id);
  return { job, progress, progressError };
};

/** A results filter as the caller sends it: `after` is the cursor of the previous page, as it came. */
export type ResultsFilter = Omit<StepResultFilter, 'stepOrder' | 'after'> & { after?: string };

/** One page of a job's per-target results, in plan order. A cursor that is not ours is refused before the job is looked up. */
export const jobResults = async (
  deps: Pick<JobDeps, 'pool'>,
  tenantId: string,
  id: string,
  f: ResultsFilter,
): Promise<OrderedStepResultRow[]> => {
  const after = f.after === undefined ? undefined : decodeCursor(f.after);
  const job = await jobOf(deps, tenantId, id);
  return findStepResults(deps.pool, job.id, {
    stepOrder: job.plan.steps.map((s) => s.id),
    limit: f.limit,
    ...(f.target !== undefined && { target: f.target }),
    ...(f.step !== undefined && { step: f.step }),
    ...(f.status && { status: f.status }),
    ...(after && { after }),
  });
};
