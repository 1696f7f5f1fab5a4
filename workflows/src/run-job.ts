import {
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  isCancellation,
  makeContinueAsNewFunc,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  EXECUTOR_TARGET,
  ErrorType,
  actionRisk,
  toolKeyOf,
  type JobEvent,
  type JobResult,
  type JobStatus,
  type OrchestratorActivities,
  type Plan,
  type RunJobInput,
  type Step,
  type StepVerdict,
  type TargetRef,
} from '@opsc/contracts';
import { SearchAttribute, progressQuery } from '@opsc/contracts/temporal';
import { BOOKKEEPING } from './bookkeeping.js';
import { installControlHandlers } from './job-controls.js';
import { JobState, type JobStateData } from './job-state.js';
import { describeOutcome, runAction, type ActionRun, type Outcome } from './run-step.js';
import { undoEntryFor, type UndoEntry } from './saga.js';

// Bookkeeping must land however long PostgreSQL is away, so it retries without a cap.
const records = proxyActivities<OrchestratorActivities>(BOOKKEEPING);

/** Verdicts are written in batches of this many (and at every step's end). */
const VERDICT_BATCH = 100;
/** Undo actions get more attempts than steps: they are what stands between a host and a half-done change. */
const MIN_UNDO_ATTEMPTS = 5;
/**
 * A step or undo the executor could not even start (its records away: `RecordsUnavailable`, nothing
 * ran) is asked again after this pause, for as long as it takes: a database outage delays a job, it
 * never fails a step or skips an undo.
 */
const RECORDS_PAUSE = '30s';

/** One job's run: the approval gate, the steps over their targets, compensations, and the record of it all. */
class JobRun {
  private readonly plan: Plan;
  private readonly targets: TargetRef[];
  private readonly stepTargets: number[][];
  private readonly state: JobState;
  private readonly jobTargetCount: number;
  private stepScope: CancellationScope | null = null;
  private continueAsNewNeeded = false;
  private verdicts: StepVerdict[] = [];
  /**
   * The job's records in PostgreSQL (status, verdicts), written one after another in the order the
   * workflow made them, off the critical path: a step never waits for its bookkeeping, the job's
   * end (and a continue-as-new) waits for all of it.
   */
  private records: Promise<void> = Promise.resolve();
  private recordFailure: unknown;
  private estimating: Promise<void> = Promise.resolve();
  private lastStepAttribute: string | null = null;

  constructor(private readonly input: RunJobInput) {
    this.plan = input.plan;
    this.targets = [...input.targets];
    this.jobTargetCount = input.targets.length;
    // Steps without targets run on the executor itself: it gets a column of its own.
    let executorIndex = -1;
    if (this.plan.steps.some((s) => !s.targets)) {
      executorIndex = this.targets.length;
      this.targets.push(EXECUTOR_TARGET);
    }
    this.stepTargets = this.plan.steps.map((step) => {
      if (!step.targets) return [executorIndex];
      const indexes = input.stepTargets[step.id] ?? [];
      for (const i of indexes) if (!this.targets[i]) throw new RangeError(`step ${step.id} refers to target #${i}, which the job does not have`);
      return indexes;
    });
    const now = new Date();
    const { approval } = input;
    this.state = new JobState(
      input.jobId,
      this.plan,
      this.targets.map((t) => t.name),
      this.stepTargets,
      executorIndex,
      input.carried
        ? (input.carried as JobStateData)
        : {
            now,
            approval: {
              required: approval.required,
              status: approval.required ? 'pending' : 'not_required',
              planHash: input.planHash,
              requestedBy: input.requestedBy,
              fourEyes: approval.fourEyes,
              deadline: approval.required ? new Date(now.getTime() + approval.timeoutSeconds * 1000).toISOString() : null,
            },
          },
    );
  }

  private get data() {
    return this.state.data;
  }

  // ---- messages -------------------------------------------------------------------------------

  installHandlers(): void {
    installControlHandlers({
      input: this.input,
      data: this.data,
      rollbackPolicy: this.plan.policies.rollback,
      log: (level, message) => this.state.log(new Date(), level, message),
      event: (action, actor, details, decisionId) => this.event(action, actor, details, decisionId),
      setStatus: (status) => this.setStatus(status),
      interruptSteps: () => this.stepScope?.cancel(),
    });
  }

  private async event(
    action: JobEvent['action'],
    actor: { by: string; comment?: string | null; sourceIp?: string | null },
    details?: Record<string, unknown>,
    decisionId?: string,
  ): Promise<void> {
    const entry = this.eventEntry(action, actor, details, decisionId);
    await CancellationScope.nonCancellable(() => records.recordJobEvent(entry));
  }

  /** An event as it is recorded: its key and time are taken when it happens, not when it is written. */
  private eventEntry(action: JobEvent['action'], actor: { by: string; comment?: string | null; sourceIp?: string | null }, details?: Record<string, unknown>, decisionId?: string): JobEvent {
    return {
      jobId: this.input.jobId,
      key: this.state.nextEventKey(action),
      action,
      actor: actor.by,
      at: new Date().toISOString(),
      planHash: this.input.planHash,
      ...(actor.comment && { comment: actor.comment }),
      ...(actor.sourceIp && { sourceIp: actor.sourceIp }),
      ...(details && { details }),
      ...(decisionId && { decisionId }),
    };
  }

  /**
   * A status on the way: at once in the query and the search attributes, the job row following in
   * order (await it to wait for it). The final one goes the other way round, in `finish`.
   */
  private setStatus(status: JobStatus): Promise<void> {
    this.state.setStatus(status, new Date());
    upsertSearchAttributes([{ key: SearchAttribute.status, value: status }]);
    return this.record(() => records.recordJobStatus({ jobId: this.input.jobId, status }));
  }

  /**
   * Queues a write behind the earlier ones; it is retried until it lands and no cancel stops it.
   * The promise never rejects: a write refused for good is kept and fails the job in `settle`.
   */
  private record(write: () => Promise<unknown>): Promise<void> {
    this.records = this.records.then(() => CancellationScope.nonCancellable(write)).then(
      () => undefined,
      (err: unknown) => {
        this.recordFailure ??= err;
      },
    );
    return this.records;
  }

  /** Every queued record written and the ETA estimate in: before the job ends or continues as new. */
  private async settle(): Promise<void> {
    this.queueVerdicts();
    await this.estimating;
    await this.records;
    if (this.recordFailure !== undefined) throw this.recordFailure;
  }

  // ---- the run ---------------------------------------------------------------------------------

  async run(): Promise<JobResult> {
    // Before anything is written or run: this is the job the API recorded (Temporal takes any start).
    // Until then the run answers no progress query: a forged run under a finished job's id does not
    // stand in for the job, the API falls back on the job's record.
    await this.confirmStart();
    setHandler(progressQuery, () => this.state.snapshot(new Date()));
    try {
      if (this.data.phase === 'approval') await this.approvalGate();
      if (this.data.phase === 'running' && (await this.execute()) === 'continue-as-new') return await this.continueAsNew();
    } catch (err) {
      if (!isCancellation(err)) throw err;
      // Cancelled from Temporal itself (its UI, the CLI): the same as an interrupting cancel.
      this.data.cancel ??= { by: 'temporal', mode: 'interrupt' };
      this.data.stop = 'cancel';
      this.state.log(new Date(), 'warn', 'Cancelled through Temporal');
      if (this.data.phase === 'approval') this.data.phase = 'done';
    }
    return CancellationScope.nonCancellable(async () => {
      if (this.data.phase === 'running') this.endSteps();
      if (this.data.phase === 'compensating' && (await this.compensate()) === 'continue-as-new') return this.continueAsNew();
      return this.finish();
    });
  }

  /** A first run checks its input against the job's record through an activity; a continued run was handed its state by a run that did. */
  private async confirmStart(): Promise<void> {
    const { input } = this;
    if (input.carried !== undefined) return;
    const { jobId, tenantId, plan, planHash, risk, requestedBy, targets, stepTargets, approval } = input;
    await records.confirmJob({ jobId, tenantId, plan, planHash, risk, requestedBy, targets, stepTargets, approval: { required: approval.required, fourEyes: approval.fourEyes } });
  }

  private async approvalGate(): Promise<void> {
    const { approval } = this.data;
    if (!approval.required) {
      this.data.phase = 'running';
      return;
    }
    if (this.data.status !== 'awaiting_approval') {
      this.state.log(new Date(), 'info', `Waiting for approval: ${this.input.approval.reasons.join('; ') || 'the plan asks for it'}`);
      await this.setStatus('awaiting_approval');
    }
    const waitMs = Math.max(0, Date.parse(approval.deadline ?? '') - Date.now());
    const answered = await condition(() => approval.status !== 'pending' || this.data.cancel !== null, waitMs);
    if (!answered) {
      approval.status = 'timed_out';
      this.state.log(new Date(), 'warn', `Nobody approved within ${this.input.approval.timeoutSeconds} s: rejected`);
      await this.event('approval-timeout', { by: 'workflow' });
    }
    this.data.phase = approval.status === 'approved' && !this.data.cancel ? 'running' : 'done';
  }

  private async execute(): Promise<'done' | 'continue-as-new'> {
    // Neither the status row nor the estimate holds the first targets back.
    if (this.data.status !== 'running' && this.data.status !== 'paused') void this.setStatus(this.data.paused ? 'paused' : 'running');
    // The ETA is an aid: a lookup refused for good is logged, and the job goes on without it.
    if (!this.data.etaSetAt) {
      this.estimating = CancellationScope.nonCancellable(() => this.estimate()).catch((err: unknown) => {
        this.state.log(new Date(), 'warn', `No ETA from earlier runs: ${(err as Error).message}`);
      });
    }
    const width = this.targets.length;
    for (const phase of this.phases()) {
      const first = phase[0]!;
      if (phase.at(-1)! < this.data.stepIndex) continue;
      if (this.data.stop) break;
      for (const i of phase) this.state.startStep(i, new Date());
      this.data.stepIndex = first;
      this.markStep(this.plan.steps[first]!);
      for (;;) {
        // Work items are (step, target) pairs, so the variants of a step share one window.
        const work = phase.flatMap((i) => this.state.pendingTargets(i).map((t) => i * width + t));
        if (work.length === 0 || this.data.stop) break;
        const scope = new CancellationScope();
        this.stepScope = scope;
        try {
          await scope.run(() => this.window(work, (item) => this.runTarget(Math.floor(item / width), item % width), () => this.stopLaunching()));
        } catch (err) {
          // An interrupting cancel: the lanes' activities were cancelled and reported as such.
          if (!isCancellation(err) || !this.data.cancel) throw err;
        } finally {
          this.stepScope = null;
        }
        if (this.continueAsNewNeeded) return 'continue-as-new';
        if (this.thresholdCrossed() && !this.data.stop) await this.onThreshold();
      }
      for (const i of phase) this.state.finishStep(i, new Date());
      this.queueVerdicts();
    }
    this.endSteps();
    return 'done';
  }

  /** Steps are over (all run, or stopped): what is left is skipped, and compensation decides the rest. */
  private endSteps(): void {
    if (this.data.stop) {
      for (const [i, step] of this.data.steps.entries()) if (step.status === 'running') this.state.finishStep(i, new Date());
      this.state.skipRemaining(this.data.stepIndex + 1, new Date());
    }
    this.data.phase = 'compensating';
  }

  /** Runs of consecutive steps that go together: the OS variants of one plan step run at the same time. */
  private phases(): number[][] {
    const out: number[][] = [];
    for (const [i, step] of this.plan.steps.entries()) {
      const last = out.at(-1);
      const previous = last ? this.plan.steps[last[0]!] : undefined;
      if (last && step.variantOf && previous?.variantOf === step.variantOf) last.push(i);
      else out.push([i]);
    }
    return out;
  }

  private markStep(step: Step): void {
    if (this.lastStepAttribute === step.id) return;
    this.lastStepAttribute = step.id;
    upsertSearchAttributes([{ key: SearchAttribute.step, value: step.id }]);
  }

  /** The lanes of a sliding window: at most `maxParallel` items in flight, the next starting as soon as one ends. */
  private async window(items: readonly number[], work: (item: number) => Promise<void>, stop: () => boolean): Promise<void> {
    let next = 0;
    const lane = async (): Promise<void> => {
      for (;;) {
        if (this.data.paused && !stop()) await condition(() => !this.data.paused || stop());
        if (stop()) return;
        const item = items[next++];
        if (item === undefined) return;
        await work(item);
        if (this.historyTooLong()) this.continueAsNewNeeded = true;
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.plan.policies.maxParallel, items.length) }, lane));
  }

  private stopLaunching(): boolean {
    return this.data.stop !== null || this.continueAsNewNeeded || (this.thresholdCrossed() && !this.data.thresholdWaived);
  }

  private historyTooLong(): boolean {
    const info = workflowInfo();
    return info.historyLength >= this.input.options.historyEventLimit || info.continueAsNewSuggested;
  }

  private thresholdCrossed(): boolean {
    if (this.data.thresholdWaived) return false;
    const failed = this.state.failedCount();
    if (failed === 0) return false;
    const { continueOnFailure, maxFailPercentage } = this.plan.policies;
    return !continueOnFailure || (failed * 100) / Math.max(1, this.jobTargetCount) > maxFailPercentage;
  }

  private async onThreshold(): Promise<void> {
    const failed = this.state.failedCount();
    const total = Math.max(1, this.jobTargetCount);
    const { continueOnFailure, maxFailPercentage, onFailThreshold, decisionTimeoutSeconds } = this.plan.policies;
    const reason = continueOnFailure
      ? `${failed} of ${total} targets failed (${Math.round((failed * 100) / total)}%), more than the ${maxFailPercentage}% the plan allows`
      : `${failed} of ${total} targets failed and the plan stops at the first failure`;
    if (onFailThreshold !== 'ask') {
      this.state.log(new Date(), 'error', `${reason}: stopping`);
      this.data.stop = 'threshold';
      return;
    }
    const now = new Date();
    this.data.decision = { status: 'pending', reason, askedAt: now.toISOString(), deadline: new Date(now.getTime() + decisionTimeoutSeconds * 1000).toISOString() };
    this.state.log(now, 'warn', `${reason}: waiting for a decision, continue or roll back`);
    await this.setStatus('awaiting_decision');
    const decision = this.data.decision;
    const answered = await condition(() => decision.status !== 'pending' || this.data.cancel !== null, decisionTimeoutSeconds * 1000);
    if (!answered) {
      decision.status = 'timed_out';
      this.state.log(new Date(), 'warn', `No decision within ${decisionTimeoutSeconds} s: rolling back`);
      await this.event('decision-timeout', { by: 'workflow' });
    }
    if (this.data.cancel) return;
    if (decision.status === 'continue') {
      this.data.thresholdWaived = true;
      await this.setStatus(this.data.paused ? 'paused' : 'running');
    } else {
      this.data.stop = 'rollback-all';
    }
  }

  private async runTarget(stepIndex: number, t: number): Promise<void> {
    const step = this.plan.steps[stepIndex]!;
    const target = this.targets[t]!;
    this.state.startTarget(stepIndex, t, new Date());
    const outcome = await this.runWhenRecorded(
      { stepId: step.id, action: step.action, timeoutSeconds: step.timeoutSeconds, maxAttempts: step.maxAttempts ?? this.plan.policies.maxAttempts },
      target,
      `"${step.name}"`,
    );
    const cancelled = outcome.error?.type === ErrorType.Cancelled;
    this.state.finishTarget(stepIndex, t, outcome.ok, cancelled, outcome.durationMs, describeOutcome(outcome), new Date());
    this.verdict(step.id, toolKeyOf(step), target, outcome);
    // Only a step whose action changes something has anything to undo (what the action does, not what the plan says).
    // What it changed decides whether it is undone: a run that failed before changing anything is not.
    if (actionRisk(step.action) !== 'read') {
      const undo = undoEntryFor(step, stepIndex, outcome);
      if (undo) (this.data.undo[t] ??= []).push(undo);
    }
    if (outcome.ok) return;
    if (this.plan.policies.rollback === 'all') {
      if (!this.data.stop) {
        this.state.log(new Date(), 'error', `${target.name} failed and the plan rolls back every target on a failure: stopping`);
        this.data.stop = 'rollback-all';
      }
    } else if (this.plan.policies.rollback === 'target' && !cancelled) {
      await CancellationScope.nonCancellable(() => this.compensateTarget(t));
    }
  }

  private verdict(stepId: string, toolKey: string, target: TargetRef, outcome: Outcome): void {
    this.verdicts.push({
      stepId,
      toolKey,
      target,
      status: outcome.ok ? 'succeeded' : 'failed',
      durationMs: Math.round(outcome.durationMs),
      ...(outcome.error && { error: outcome.error }),
    });
    if (this.verdicts.length >= VERDICT_BATCH) this.queueVerdicts();
  }

  private queueVerdicts(): void {
    const batch = this.verdicts;
    if (batch.length === 0) return;
    this.verdicts = [];
    void this.record(() => records.recordStepResults({ jobId: this.input.jobId, verdicts: batch }));
  }

  /**
   * Undoes one target's changes, newest first. A failed undo is reported and the older ones still
   * run; the target is rolled back only if every one of them ran and succeeded, else half-changed.
   */
  private async compensateTarget(t: number): Promise<void> {
    const stack = this.data.undo[t];
    if (!stack?.length) return;
    const target = this.targets[t]!;
    const undone: string[] = [];
    const notUndone: string[] = [];
    while (stack.length > 0) {
      const entry = stack[stack.length - 1]!;
      const step = this.plan.steps[entry.step]!;
      let failure: string | null = entry.error ?? null;
      if (entry.action) {
        const outcome = await this.runUndo(entry, target);
        this.verdict(`${step.id}.rollback`, step.rollback?.tool ?? `${toolKeyOf(step)}.rollback`, target, outcome);
        if (!outcome.ok) failure = `undo of "${step.name}" (${step.rollback?.name ?? 'rollback'}) failed: ${describeOutcome(outcome)}`;
      }
      stack.pop();
      (failure === null ? undone : notUndone).push(step.id);
      this.state.recordUndone(entry.step, t, failure === null, failure === null ? null : { target: target.name, stepId: step.id, message: failure }, new Date());
      // On record in order with the rest, but the older undos do not wait for the database.
      if (failure) {
        const event = this.eventEntry('compensation-failed', { by: 'workflow' }, { target: target.name, stepId: step.id, message: failure });
        void this.record(() => records.recordJobEvent(event));
      }
    }
    this.state.finishCompensation(t, undone, notUndone, new Date());
  }

  /** Runs one undo action (see `runWhenRecorded`). */
  private runUndo(entry: UndoEntry, target: TargetRef): Promise<Outcome> {
    const step = this.plan.steps[entry.step]!;
    return this.runWhenRecorded(
      {
        stepId: `${step.id}.rollback`,
        action: entry.action!,
        timeoutSeconds: step.timeoutSeconds,
        maxAttempts: Math.max(MIN_UNDO_ATTEMPTS, step.maxAttempts ?? this.plan.policies.maxAttempts),
      },
      target,
      `the undo of "${step.name}"`,
    );
  }

  /**
   * Runs an action; while the executor cannot start it for want of its records (nothing ran), it
   * waits and asks again. A cancellation while it waits ends it as cancelled (nothing ran).
   */
  private async runWhenRecorded(run: ActionRun, target: TargetRef, what: string): Promise<Outcome> {
    const began = Date.now();
    for (let asked = 0; ; asked++) {
      const outcome = await runAction(run, target, this.input, Date.now);
      if (outcome.error?.type !== ErrorType.RecordsUnavailable) return asked === 0 ? outcome : { ...outcome, durationMs: Date.now() - began };
      if (asked === 0) this.state.log(new Date(), 'warn', `${what} waits for the executor's database: ${outcome.error.message}`, run.stepId, target.name);
      try {
        await sleep(RECORDS_PAUSE);
      } catch (err) {
        if (!isCancellation(err)) throw err;
        return { ok: false, error: { type: ErrorType.Cancelled, message: `cancelled while ${what} waited for the executor's database; nothing ran` }, durationMs: Date.now() - began };
      }
    }
  }

  /** Which targets' changes are undone now that the steps are over. */
  private targetsToCompensate(): number[] {
    const { rollback } = this.plan.policies;
    const everyone = this.data.stop === 'rollback-all' || (this.data.cancel !== null && rollback === 'all');
    const cancelledOnly = this.data.cancel !== null && rollback === 'target';
    return this.targets
      .map((_, t) => t)
      .filter((t) => (this.data.undo[t]?.length ?? 0) > 0 && (everyone || (cancelledOnly && this.state.hasFailed(t))));
  }

  private async compensate(): Promise<'done' | 'continue-as-new'> {
    const targets = this.targetsToCompensate();
    if (targets.length > 0) {
      if (this.data.status !== 'rolling_back') {
        this.state.log(new Date(), 'warn', `Rolling back ${targets.length} target(s)`);
        // The undos do not wait for the status row (a database outage delays the record, not the rollback).
        void this.setStatus('rolling_back');
      }
      await this.window(targets, (t) => this.compensateTarget(t), () => this.continueAsNewNeeded);
      this.queueVerdicts();
      if (this.continueAsNewNeeded) return 'continue-as-new';
    }
    this.data.phase = 'done';
    return 'done';
  }

  private async finish(): Promise<JobResult> {
    // A decision in flight is confirmed and answered (refused, the job being over) before the end.
    await condition(allHandlersFinished);
    await this.settle();
    const { data } = this;
    const states = data.targetStates.slice(0, this.jobTargetCount);
    const failedTargets = this.targets.some((_, t) => this.state.hasFailed(t));
    const status: JobStatus =
      data.approval.status === 'rejected' || data.approval.status === 'timed_out'
        ? 'rejected'
        : data.cancel
          ? 'cancelled'
          : failedTargets || data.stop || data.rollback.failed > 0
            ? 'failed'
            : 'completed';
    if (data.rollback.failed > 0) this.state.log(new Date(), 'error', `${data.rollback.failed} undo action(s) FAILED: those hosts are half-changed; see the rollback failures`);
    const count = (s: string) => states.filter((x) => x === s).length;
    const outcome = {
      targets: { total: states.length, completed: count('completed'), failed: count('failed') + count('cancelled'), rolledBack: count('rolled_back'), rollbackFailed: count('rollback_failed') },
      compensationFailures: data.rollback.failed,
      halfChanged: data.rollback.halfChanged ?? [],
    };
    // The end shows in the query and Temporal UI only once its record (row, outcome, audit entry) is
    // written: whoever sees the job over finds the same in PostgreSQL.
    await this.record(() => records.recordJobStatus({ jobId: this.input.jobId, status, outcome }));
    if (this.recordFailure !== undefined) throw this.recordFailure;
    this.state.setStatus(status, new Date());
    upsertSearchAttributes([{ key: SearchAttribute.status, value: status }]);
    return { jobId: this.input.jobId, status, ...outcome };
  }

  private async estimate(): Promise<void> {
    const estimates = await records.estimateSteps({
      jobId: this.input.jobId,
      steps: this.plan.steps.map((step) => ({ stepId: step.id, toolKey: toolKeyOf(step), fallbackSeconds: step.tool?.typicalDurationSeconds ?? null })),
    });
    for (const e of estimates) {
      const index = this.plan.steps.findIndex((s) => s.id === e.stepId);
      if (index >= 0) this.state.setExpected(index, e.seconds, e.from, e.tailSeconds);
    }
    const now = new Date();
    this.data.etaSetAt = now.toISOString();
    const count = (from: string) => estimates.filter((e) => e.from === from).length;
    const seconds = this.state.remainingSeconds(now);
    this.state.log(
      now,
      'info',
      `${seconds === null ? 'No ETA yet' : `Expected to take about ${Math.round(seconds)} s`}: ${count('history')} step(s) timed from earlier runs on these targets, ${count('tool')} from tool estimates, ${count('none')} unknown`,
    );
  }

  private async continueAsNew(): Promise<never> {
    // Handlers first: what they write (an event, a status) is then settled with the rest.
    await condition(allHandlersFinished);
    await this.settle();
    const info = workflowInfo();
    const next = makeContinueAsNewFunc<(input: RunJobInput) => Promise<JobResult>>({ typedSearchAttributes: info.typedSearchAttributes, memo: info.memo ?? {} });
    return next({ ...this.input, carried: this.state.handOver() });
  }
}

/** Runs a job: approval, then its steps in order over their targets, undoing what failed per the plan, on the executor queue. */
export async function runJob(input: RunJobInput): Promise<JobResult> {
  const forged = (message: string) => ApplicationFailure.create({ type: ErrorType.Forbidden, message: `refused to run: ${message}`, nonRetryable: true });
  // Anyone who reaches Temporal can start this workflow: state handed over without a continue-as-new
  // is forged, and an input the run cannot even be built from fails the run, not its task forever.
  if (input.carried !== undefined && workflowInfo().continuedFromExecutionRunId === undefined) throw forged('handed-over state, but this run did not continue an earlier one');
  let job: JobRun;
  try {
    job = new JobRun(input);
  } catch (err) {
    throw forged(`the input is not a job (${(err as Error).message})`);
  }
  job.installHandlers();
  return job.run();
}
