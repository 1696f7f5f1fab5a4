/** The job service: what the API's job routes call, over a small deps object (no HTTP here). */
export type { Caller, JobDeps } from './deps.js';
export { submitJob, type SubmittedJob } from './submit-job.js';
export { controlJob, type DecisionFields } from './job-control.js';
export { jobDetail, jobList, jobOf, jobResults, type JobDetail, type ResultsFilter } from './job-queries.js';
export { createToolAvailability } from './tool-availability.js';
export { estimatePlanEta, PLAN_ETA_BUDGET_MS } from './plan-estimate.js';
