import { CancellationScope, proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { JobEvent, JobStatus, OrchestratorActivities, StepVerdict, TargetRef } from '@opsc/contracts';
import { SearchAttribute } from '@opsc/contracts/temporal';
import { BOOKKEEPING } from './bookkeeping.js';
import type { JobState } from './job-state.js';
import type { Outcome } from './run-step.js';

// Bookkeeping must land however long PostgreSQL is away, so it retries without a cap.
export const records = proxyActivities<OrchestratorActivities>(BOOKKEEPING);

/** Verdicts are written in batches of this many (and at every step's end). */
const VERDICT_BATCH = 100;

/** Who an event is by, as the job's audit entry names them. */
export interface Actor {
  by: string;
  comment?: string | null;
  sourceIp?: string | null;
}

/**
 * The job's records in PostgreSQL (status, verdicts, events), written one after another in the order
 * the workflow made them, off the critical path: a step never waits for its bookkeeping, the job's
 * end (and a continue-as-new) waits for all of it.
 */
export class RecordsQueue {
  private verdicts: StepVerdict[] = [];
  private written: Promise<void> = Promise.resolve();
  private failure: unknown;

  constructor(
    private readonly jobId: string,
    private readonly planHash: string,
    private readonly state: JobState,
  ) {}

  /** Records an event at once (not behind the queue); no cancel stops it. */
  async event(
    action: JobEvent['action'],
    actor: Actor,
    details?: Record<string, unknown>,
    decisionId?: string,
  ): Promise<void> {
    const entry = this.eventEntry(action, actor, details, decisionId);
    await CancellationScope.nonCancellable(() => records.recordJobEvent(entry));
  }

  /** An event as it is recorded: its key and time are taken when it happens, not when it is written. */
  eventEntry(
    action: JobEvent['action'],
    actor: Actor,
    details?: Record<string, unknown>,
    decisionId?: string,
  ): JobEvent {
    return {
      jobId: this.jobId,
      key: this.state.nextEventKey(action),
      action,
      actor: actor.by,
      at: new Date().toISOString(),
      planHash: this.planHash,
      ...(actor.comment && { comment: actor.comment }),
      ...(actor.sourceIp && { sourceIp: actor.sourceIp }),
      ...(details && { details }),
      ...(decisionId && { decisionId }),
    };
  }

  /**
   * A status on the way: at once in the query and the search attributes, the job row following in
   * order (await it to wait for it). The final one goes the other way round (see `JobRun.finish`).
   */
  setStatus(status: JobStatus): Promise<void> {
    this.state.setStatus(status, new Date());
    upsertSearchAttributes([{ key: SearchAttribute.status, value: status }]);
    return this.record(() => records.recordJobStatus({ jobId: this.jobId, status }));
  }

  /**
   * Queues a write behind the earlier ones; it is retried until it lands and no cancel stops it.
   * The promise never rejects: a write refused for good is kept and fails the job in `settle`.
   */
  record(write: () => Promise<unknown>): Promise<void> {
    this.written = this.written
      .then(() => CancellationScope.nonCancellable(write))
      .then(
        () => undefined,
        (err: unknown) => {
          this.failure ??= err;
        },
      );
    return this.written;
  }

  /** Keeps one target's verdict on a step (or on its undo) for the next batch. */
  verdict(stepId: string, toolKey: string, target: TargetRef, outcome: Outcome, rerun = 0): void {
    this.verdicts.push({
      ...(rerun > 0 && { rerun }),
      stepId,
      toolKey,
      target,
      status: outcome.ok ? 'succeeded' : 'failed',
      durationMs: Math.round(outcome.durationMs),
      ...(outcome.error && { error: outcome.error }),
    });
    if (this.verdicts.length >= VERDICT_BATCH) this.queueVerdicts();
  }

  /** Queues the verdicts kept so far as one write. */
  queueVerdicts(): void {
    const batch = this.verdicts;
    if (batch.length === 0) return;
    this.verdicts = [];
    void this.record(() => records.recordStepResults({ jobId: this.jobId, verdicts: batch }));
  }

  /** Every queued record written and the ETA estimate in: before the job ends or continues as new. */
  async settle(estimating: Promise<void>): Promise<void> {
    this.queueVerdicts();
    await estimating;
    await this.written;
    this.throwIfFailed();
  }

  /** A write refused for good fails the job. */
  throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
