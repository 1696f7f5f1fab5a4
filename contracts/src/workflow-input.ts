import type { JobResume } from './job-resume.js';
import type { NotificationEvent } from './notifications.js';
import type { Plan } from './plan.js';
import type { TargetRef } from './target.js';
import type { RiskLevel } from './tools.js';
import type { JobMode } from './check-mode.js';

/** Tunables the orchestrator passes into every job; workflows read no environment. */
export interface JobOptions {
  /** An execution activity that has not heartbeated for this long is retried elsewhere. */
  heartbeatTimeoutSeconds: number;
  /** The workflow continues as new once its history passes this many events (Temporal's hard limit is 51,200). */
  historyEventLimit: number;
}

/** How the job's approval works, fixed when the job is created (tenant settings and the plan's risk). */
export interface ApprovalPolicy {
  required: boolean;
  /** Why: the steps that change things, flagged content, or the plan asking for it. */
  reasons: string[];
  /** The requester may not approve their own job. */
  fourEyes: boolean;
  /** Unanswered for this long, the job is rejected. */
  timeoutSeconds: number;
}

/** The single argument of the `runJob` workflow. */
export interface RunJobInput {
  jobId: string;
  tenantId: string;
  plan: Plan;
  /** SHA-256 of the plan's canonical JSON: what an approval must name. */
  planHash: string;
  risk: RiskLevel;
  /** The inventory group the plan mostly acts on, for search; null when it names targets. */
  targetGroup: string | null;
  /** Every inventory target the job touches, once; steps refer to them by index. */
  targets: TargetRef[];
  /** For each remote step id, the indexes into `targets` it acts on (resolved when the job was created). */
  stepTargets: Record<string, number[]>;
  requestedBy: string;
  approval: ApprovalPolicy;
  /**
   * `check`: each step runs its read-only check instead of its change (no approval, no rollback);
   * absent on jobs that run their plan (and on every job started before check mode existed).
   */
  mode?: JobMode;
  options: JobOptions;
  /**
   * A retry job only: where each target starts and the steps it carries from the jobs before (see
   * `JobResume`). Steps before a target's start are shown done (`Cell.doneBefore`) and never run.
   */
  resume?: JobResume;
  /** The state a previous run handed over when it continued as new; absent on the first run. */
  carried?: unknown;
}

/** The single argument of the `notifyJob` workflow (id `notify-<jobId>-<event>-<n>`), started by a job's workflow. */
export interface NotifyJobInput {
  jobId: string;
  event: NotificationEvent;
  /** Which time the job entered this event's state (1 for the final events). */
  n: number;
}

/** The single argument of the `notifyTest` workflow (id `notify-test-<testId>`), started by the API. */
export interface NotifyTestInput {
  testId: string;
  channelId: string;
}
