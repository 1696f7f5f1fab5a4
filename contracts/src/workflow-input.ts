import type { Plan } from './plan.js';
import type { TargetRef } from './target.js';

/** Tunables the orchestrator passes into every job; workflows read no environment. */
export interface JobOptions {
  /** An execution activity that has not heartbeated for this long is retried elsewhere. */
  heartbeatTimeoutSeconds: number;
}

/** The single argument of the `runJob` workflow. */
export interface RunJobInput {
  jobId: string;
  plan: Plan;
  /** Every inventory target the job touches, once; steps refer to them by index. */
  targets: TargetRef[];
  /** For each remote step id, the indexes into `targets` it acts on (resolved when the job was created). */
  stepTargets: Record<string, number[]>;
  requestedBy: string;
  options: JobOptions;
}
