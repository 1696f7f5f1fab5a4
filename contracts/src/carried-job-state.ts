import { z } from 'zod';
import { Action } from './plan.js';
import { ApprovalState, CompensationFailure, DecisionState, LogEntry, TargetState } from './progress.js';
import { HalfChangedHost, JobStatus, StepStatus } from './results.js';
import { EtaBasis, PlatformTiming } from './eta.js';

/**
 * The version of the state a job's workflow hands to its next run when it continues as new. Raise it
 * when the shape changes in a way an older worker would misread: a run refuses a version it does not know.
 * State handed over before versions were written has no `version` and the shape of version 1.
 */
export const CARRIED_JOB_STATE_VERSION = 1;

/** Where the workflow is in its life; a continued run starts again at this phase. */
export const JobPhase = z.enum(['approval', 'running', 'compensating', 'done']);
export type JobPhase = z.infer<typeof JobPhase>;

/** Why launching stopped before every target was done. */
export const StopReason = z.enum(['threshold', 'rollback-all', 'cancel']);
export type StopReason = z.infer<typeof StopReason>;

/** One thing to undo on a target: a validated action, or why it cannot be undone (reported loudly). */
export const UndoEntry = z.object({
  /** The index of the step whose change this undoes. */
  step: z.number().int().min(0),
  action: Action.optional(),
  error: z.string().optional(),
});
export type UndoEntry = z.infer<typeof UndoEntry>;

/** One step of the job as the workflow tracks it, with what its ETA is made of. */
export const StepMeta = z.object({
  status: StepStatus,
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  expectedSeconds: z.number().nullable(),
  expectedFrom: z.enum(['history', 'tool', 'observed', 'none']),
  /** The estimate's slow end (95th percentile over the targets); absent in state handed over by older runs. */
  expectedTailSeconds: z.number().nullable().optional(),
  /** Sum, count and longest of this run's durations of the step, per target. */
  observedMs: z.number(),
  observedCount: z.number().int(),
  observedMaxMs: z.number().optional(),
  /** Per target, the `OutcomeFact` its last successful run of the step established (step-facts.ts). */
  facts: z.string().optional(),
  /** The smallest and largest file the step copied, fetched or backed up. */
  bytes: z.object({ min: z.number().int(), max: z.number().int() }).optional(),
});
export type StepMeta = z.infer<typeof StepMeta>;

/**
 * Everything a job's workflow knows, as plain data: the `progress` query reads it, and a run that
 * continues as new hands it over whole (the `carried` field of `RunJobInput`). Cells are one
 * character per target per step (see `Cell`).
 */
export const CarriedJobState = z.object({
  version: z.literal(CARRIED_JOB_STATE_VERSION),
  phase: JobPhase,
  status: JobStatus,
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  stepIndex: z.number().int().min(0),
  steps: z.array(StepMeta),
  cells: z.array(z.string()),
  /** Check mode only: per step, one `CheckCode` character per target. */
  checks: z.array(z.string()).optional(),
  targetStates: z.array(TargetState),
  /** Per target index, the undo actions of its completed changes, in the order they were done. */
  undo: z.record(z.string().regex(/^\d+$/), z.array(UndoEntry)),
  approval: ApprovalState,
  decision: DecisionState.nullable(),
  /**
   * Per step index, per target index: the re-run (decide `retry`) the target's latest run of the
   * step was. Absent in state handed over by older runs, and while nothing was run again.
   */
  reruns: z.record(z.string().regex(/^\d+$/), z.record(z.string().regex(/^\d+$/), z.number().int().min(1))).optional(),
  /** An approver chose to go on past the failure threshold: it is not asked again. */
  thresholdWaived: z.boolean(),
  paused: z.boolean(),
  /**
   * Seconds the job spent paused before `pausedAt`, and when the pause under way began: the ETA's
   * pace counts only the time the job ran. Absent from older runs and from jobs never paused.
   */
  pausedSeconds: z.number().min(0).optional(),
  pausedAt: z.string().nullable().optional(),
  cancel: z.object({ by: z.string(), mode: z.enum(['finish', 'interrupt']) }).nullable(),
  stop: StopReason.nullable(),
  /** `halfChanged` is absent from state handed over by older runs. */
  rollback: z.object({
    undone: z.number().int(),
    failed: z.number().int(),
    failures: z.array(CompensationFailure),
    halfChanged: z.array(HalfChangedHost).optional(),
  }),
  logs: z.array(LogEntry),
  runs: z.number().int().min(0),
  eventSeq: z.number().int().min(0),
  etaSetAt: z.string().nullable(),
  /** What the first estimate stood on: the platform's learned cost and where durations came from (absent from older runs). */
  eta: z.object({ platform: PlatformTiming, basis: EtaBasis }).optional(),
});
export type CarriedJobState = z.infer<typeof CarriedJobState>;

/**
 * Reads the state a run handed over: the state as handed over, or why this code refuses it (a
 * version it does not know, or a shape that is not its version's). Validated once per run.
 */
export const readCarriedJobState = (value: unknown): { state: CarriedJobState } | { refused: string } => {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return { refused: 'the handed-over state is not an object' };
  const raw = value as Record<string, unknown>;
  // Written before versions were: the shape of version 1.
  const version = raw.version ?? CARRIED_JOB_STATE_VERSION;
  if (version !== CARRIED_JOB_STATE_VERSION) {
    return {
      refused: `the handed-over state is version ${JSON.stringify(version).slice(0, 40)}; this code reads version ${CARRIED_JOB_STATE_VERSION} only`,
    };
  }
  const state = raw.version === undefined ? { ...raw, version } : raw;
  const parsed = CarriedJobState.safeParse(state);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      refused: `the handed-over state (version ${CARRIED_JOB_STATE_VERSION}) does not fit its schema at ${issue?.path.join('.') || 'the top'}: ${issue?.message ?? 'unknown'}`,
    };
  }
  // The object as handed over, not the parser's copy: nothing in it is dropped or reordered.
  return { state: state as CarriedJobState };
};
