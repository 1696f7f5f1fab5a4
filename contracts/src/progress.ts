import { z } from 'zod';
import { HalfChangedHost, JobStatus, StepStatus } from './results.js';
import { JobMode } from './check-mode.js';
import { StepFacts } from './step-facts.js';
import { EtaRange } from './eta.js';

export const TargetCounts = z.object({
  total: z.number().int(),
  completed: z.number().int(),
  failed: z.number().int(),
  running: z.number().int(),
  pending: z.number().int(),
});
export type TargetCounts = z.infer<typeof TargetCounts>;

export const LogEntry = z.object({
  at: z.string(),
  level: z.enum(['info', 'warn', 'error']),
  stepId: z.string().optional(),
  target: z.string().optional(),
  message: z.string(),
});
export type LogEntry = z.infer<typeof LogEntry>;

export const StepProgress = z.object({
  id: z.string(),
  name: z.string(),
  status: StepStatus,
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  targets: TargetCounts.extend({
    /** Targets left out because they failed an earlier step, or because the job stopped. */
    skipped: z.number().int(),
    /** Targets on which this step's change was undone. */
    rolledBack: z.number().int(),
    /** A retry job only: targets on which the step stands from an earlier job, so it does not run here. */
    doneBefore: z.number().int().optional(),
  }),
  /** Expected seconds of one target's run of this step, and where that figure came from. */
  expectedSeconds: z.number().nullable(),
  expectedFrom: z.enum(['history', 'tool', 'observed', 'none']),
  /** What the step did on its targets ("18 running, 7 stopped"); absent when it states no fact. */
  facts: StepFacts.optional(),
});
export type StepProgress = z.infer<typeof StepProgress>;

/**
 * One character per target in a step row of `matrix`: compact, so a 1,000-target job answers the
 * query in a few kilobytes. Decode with `cellStatus`.
 */
export const Cell = {
  pending: '.',
  running: '>',
  succeeded: 'S',
  failed: 'F',
  skipped: '-',
  rolledBack: 'R',
  rollbackFailed: 'X',
  cancelled: 'C',
  /** A retry job only: the step stands on the target from an earlier job of its lineage; not run here. */
  doneBefore: 'D',
  notInStep: ' ',
} as const;
export type Cell = (typeof Cell)[keyof typeof Cell];
const CELL_NAMES = new Map<string, keyof typeof Cell>(
  Object.entries(Cell).map(([name, code]) => [code, name as keyof typeof Cell]),
);
export const cellStatus = (code: string): keyof typeof Cell => CELL_NAMES.get(code) ?? 'notInStep';

/**
 * Where one target stands over the whole job, by its worst state. `skipped`: the job stopped before
 * the target got through its steps (its finished steps stand unless rolled back).
 */
export const TargetState = z.enum([
  'pending',
  'running',
  'completed',
  'failed',
  'rolled_back',
  'rollback_failed',
  'cancelled',
  'skipped',
]);
export type TargetState = z.infer<typeof TargetState>;

export const ApprovalState = z.object({
  required: z.boolean(),
  status: z.enum(['pending', 'approved', 'rejected', 'timed_out', 'not_required']),
  planHash: z.string(),
  requestedBy: z.string(),
  /** Whether the requester is barred from approving their own job. */
  fourEyes: z.boolean(),
  deadline: z.string().nullable(),
  decidedBy: z.string().optional(),
  decidedAt: z.string().optional(),
  comment: z.string().optional(),
});
export type ApprovalState = z.infer<typeof ApprovalState>;

/** A mid-run question: too many targets failed; go on, or roll back? */
export const DecisionState = z.object({
  status: z.enum(['pending', 'continue', 'rollback', 'retry', 'timed_out']),
  /**
   * What "retry failed targets now" would do (absent in state from runs before it existed): the
   * step, the re-run it would be, the targets that failed it; or why it is not offered.
   */
  retry: z
    .object({
      stepId: z.string(),
      rerun: z.number().int().min(1),
      targets: z.array(z.string()),
      unavailable: z.string().optional(),
    })
    .optional(),
  reason: z.string(),
  askedAt: z.string(),
  deadline: z.string(),
  decidedBy: z.string().optional(),
  decidedAt: z.string().optional(),
  comment: z.string().optional(),
});
export type DecisionState = z.infer<typeof DecisionState>;

export const CompensationFailure = z.object({ target: z.string(), stepId: z.string(), message: z.string() });
export type CompensationFailure = z.infer<typeof CompensationFailure>;

/** A job's live state, as the `progress` query answers it. Cheap to build and small enough to poll every second. */
export const JobProgress = z.object({
  jobId: z.string(),
  status: JobStatus,
  /** 1-based index of the step running now (or the last one run); 0 before the first. */
  currentStep: z.number().int(),
  totalSteps: z.number().int(),
  stepName: z.string().nullable(),
  /** Target counts over the whole job: each target counted once, by its worst state (rolled back counts as failed). */
  targetProgress: TargetCounts.extend({ rolledBack: z.number().int(), currentTargets: z.array(z.string()) }),
  steps: z.array(StepProgress),
  /** The job's targets (names), in the order of `matrix` columns and `targetStates`. */
  targets: z.array(z.string()),
  targetStates: z.array(TargetState),
  /** Per step, one `Cell` character per target. */
  matrix: z.array(z.string()),
  /** `check` for a check-mode job (absent: `run`). */
  mode: JobMode.optional(),
  /** Check mode: per step, one `CheckCode` character per target (would change, no change, would run). */
  checks: z.array(z.string()).optional(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  /** Seconds left, from earlier runs of the same tools on the same targets, the tools' estimates and this run so far. */
  estimatedSecondsRemaining: z.number().nullable(),
  /** When the job is expected to end (ISO time), or null. */
  eta: z.string().nullable(),
  /** The ETA as a range with its confidence and why (absent from older runs and when nothing is known). */
  etaRange: EtaRange.optional(),
  paused: z.boolean(),
  cancelRequested: z.boolean(),
  approval: ApprovalState,
  decision: DecisionState.nullable(),
  rollback: z.object({
    policy: z.enum(['none', 'target', 'all']),
    /** Undo actions run, and how many of them failed. */
    undone: z.number().int(),
    failed: z.number().int(),
    failures: z.array(CompensationFailure),
    /** Hosts left half-changed (state `rollback_failed`), bounded; absent from runs before it was kept. */
    halfChanged: z.array(HalfChangedHost).optional(),
  }),
  /** A retry job only: the job it retries and the first job of its lineage. */
  retryOf: z.object({ jobId: z.string(), rootJobId: z.string() }).optional(),
  /** How many times the workflow continued as new to keep its history short. */
  runs: z.number().int(),
  /**
   * Running targets whose executor pool no executor polls now: their actions wait on the pool's
   * queue (added by the API, not the workflow; absent when none wait).
   */
  waiting: z.array(z.object({ pool: z.string(), targets: z.array(z.string()) })).optional(),
  /** The most recent log lines (bounded). */
  logs: z.array(LogEntry),
});
export type JobProgress = z.infer<typeof JobProgress>;
