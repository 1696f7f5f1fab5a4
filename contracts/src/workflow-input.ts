import type { Plan } from './plan.js';

/** Tunables the orchestrator passes into every job; workflows read no environment. */
export interface JobOptions {
  /** An execution activity that has not heartbeated for this long is retried elsewhere. */
  heartbeatTimeoutSeconds: number;
}

/** The single argument of the `runJob` workflow. */
export interface RunJobInput {
  jobId: string;
  plan: Plan;
  requestedBy: string;
  options: JobOptions;
}
