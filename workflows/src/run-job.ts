import {
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  isCancellation,
  makeContinueAsNewFunc,
  patched,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  ErrorType,
  readCarriedJobState,
  toolKeyOf,
  type CarriedJobState,
  type JobResult,
  type RunJobInput,
  type Step,
  type TargetRef,
} from '@opsc/contracts';
import { SearchAttribute, progressQuery } from '@opsc/contracts/temporal';
import { approvalGate } from './approval-gate.js';
import { checkModePlan, checkOnTarget } from './check-step.js';
import { Compensation } from './compensation.js';
import { FanOut } from './fan-out.js';
import { installControlHandlers } from './job-controls.js';
import { estimateFromHistory } from './job-eta.js';
import { layOut } from './job-layout.js';
import { outcomeOf } from './job-outcome.js';
import type { JobState } from './job-state.js';
import { openJobState } from './job-opening.js';
import { notify } from './notify.js';
import { pushProgress } from './progress-push.js';
import { RecordsQueue, records } from './records-queue.js';
import { describeOutcome, runWhenRecorded } from './run-step.js';
import { describeTimer, runTimer } from './timer-step.js';
import { rerunOf } from './retry-now.js';
import { noteOutcomeFact } from './outcome-facts.js';

/**
 * One job's run, as a machine of phases: the approval gate, the steps over their targets, the
 * compensations, and the end on record. A continued run starts again at the phase it was handed.
 */
class JobRun {
  private readonly plan: RunJobInput['plan'];
  private readonly targets: TargetRef[];
  private readonly state: JobState;
  private readonly jobTargetCount: number;
  private readonly queue: RecordsQueue;
  private readonly fanOut: FanOut;
  private readonly saga: Compensation;
  private stepScope: CancellationScope | null = null;
  private estimating: Promise<void> = Promise.resolve();
  private lastStepAttribute: string | null = null;

  constructor(
    private readonly input: RunJobInput,
    carried: CarriedJobState | undefined,
    private readonly check = false, // check mode: each step's check in place of its change
  ) {
    this.plan = check ? checkModePlan(input.plan) : input.plan;
    const layout = layOut(input);
    this.targets = layout.targets;
    this.jobTargetCount = input.targets.length;
    this.state = openJobState(input, this.plan, layout, carried, check);
    this.queue = new RecordsQueue(input.jobId, input.planHash, this.state);
    this.fanOut = new FanOut(this.plan, input.options, this.state, this.jobTargetCount, this.queue);
    this.saga = new Compensation(input, this.targets, this.state, this.queue);
  }

  private get data() {
    return this.state.data;
  }

  private get names(): string[] {
    return this.targets.map((t) => t.name);
  }

  installHandlers(): void {
    installControlHandlers({
      input: this.input,
      data: this.data,
      rollbackPolicy: this.plan.policies.rollback,
      log: (level, message) => this.state.log(new Date(), level, message),
      event: (action, actor, details, decisionId) => this.queue.event(action, actor, details, decisionId),
      setStatus: (status) => this.queue.setStatus(status),
      interruptSteps: () => this.stepScope?.cancel(),
    });
  }

  async run(): Promise<JobResult> {
    // First, this must be the job the API recorded (Temporal takes any start). Until then no progress
    // is answered or pushed: a forged run under a finished job's id does not stand in for the job.
    await this.confirmStart();
    setHandler(progressQuery, () => this.state.snapshot(new Date()));
    pushProgress(this.state);
    try {
      if (this.data.phase === 'approval') await approvalGate(this.input, this.state, this.queue);
      if (this.data.phase === 'running' && (await this.execute()) === 'continue-as-new')
        return await this.continueAsNew();
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
      if (this.data.phase === 'compensating' && (await this.compensate()) === 'continue-as-new')
        return this.continueAsNew();
      return this.finish();
    });
  }

  /** A first run checks its input against the job's record through an activity; a continued run was handed its state by a run that did. */
  private async confirmStart(): Promise<void> {
    const { input } = this;
    if (input.carried !== undefined) return;
    const { jobId, tenantId, plan, planHash, risk, requestedBy, targets, stepTargets, approval, resume } = input;
    await records.confirmJob({
      ...(resume && { resume }),
      jobId,
      tenantId,
      plan,
      planHash,
      risk,
      requestedBy,
      targets,
      stepTargets,
      approval: { required: approval.required, fourEyes: approval.fourEyes },
      ...(input.mode !== undefined && { mode: input.mode }),
    });
  }

  private async execute(): Promise<'done' | 'continue-as-new'> {
    // Neither the status row nor the estimate holds the first targets back.
    if (this.data.status !== 'running' && this.data.status !== 'paused')
      void this.queue.setStatus(this.data.paused ? 'paused' : 'running');
    // The ETA is an aid: a lookup refused for good is logged, and the job goes on without it.
    if (!this.data.etaSetAt) {
      this.estimating = CancellationScope.nonCancellable(() =>
        estimateFromHistory(records.estimateSteps, this.input.jobId, this.plan, this.state),
      ).catch((err: unknown) => {
        this.state.log(new Date(), 'warn', `No ETA from earlier runs: ${(err as Error).message}`);
      });
    }
    const { fanOut } = this;
    const width = this.targets.length;
    for (const phase of fanOut.phases()) {
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
          await scope.run(() =>
            fanOut.window(
              work,
              (item) => this.runTarget(Math.floor(item / width), item % width),
              () => fanOut.stopLaunching(),
            ),
          );
        } catch (err) {
          // An interrupting cancel: the lanes' activities were cancelled and reported as such.
          if (!isCancellation(err) || !this.data.cancel) throw err;
        } finally {
          this.stepScope = null;
        }
        if (fanOut.continueAsNewNeeded) return 'continue-as-new';
        if (fanOut.thresholdCrossed() && !this.data.stop) await fanOut.onThreshold(phase, this.names, this.check);
      }
      for (const i of phase) this.state.finishStep(i, new Date());
      this.queue.queueVerdicts();
    }
    this.endSteps();
    return 'done';
  }

  /** Steps are over (all run, or stopped): what is left is skipped, and compensation decides the rest. */
  private endSteps(): void {
    if (this.data.stop) {
      for (const [i, step] of this.data.steps.entries())
        if (step.status === 'running') this.state.finishStep(i, new Date());
      this.state.skipRemaining(this.data.stepIndex + 1, new Date());
    }
    this.data.phase = 'compensating';
  }

  private markStep(step: Step): void {
    if (this.lastStepAttribute === step.id) return;
    this.lastStepAttribute = step.id;
    upsertSearchAttributes([{ key: SearchAttribute.step, value: step.id }]);
  }

  /** One work item of the steps' window: a step on one target, its verdict, its undo kept, and the rollback policy's answer to a failure. */
  private async runTarget(stepIndex: number, t: number): Promise<void> {
    // Check mode: the step's check on the target, its verdict kept; nothing to undo.
    if (this.check) return checkOnTarget(stepIndex, t, this.plan, this.targets[t]!, this.input, this.state, this.queue);
    const step = this.plan.steps[stepIndex]!;
    const target = this.targets[t]!;
    this.state.startTarget(stepIndex, t, new Date());
    const { action } = step;
    // A wait is the workflow's own timer (no activity): a branch only steps of that method take.
    const outcome =
      action.method === 'timer'
        ? await runTimer(action, () => this.data.stop !== null)
        : await runWhenRecorded(
            {
              stepId: step.id,
              action,
              timeoutSeconds: step.timeoutSeconds,
              maxAttempts: step.maxAttempts ?? this.plan.policies.maxAttempts,
              rerun: rerunOf(this.state, stepIndex, t),
            },
            target,
            this.input,
            `"${step.name}"`,
            this.state,
          );
    const cancelled = outcome.error?.type === ErrorType.Cancelled;
    this.state.finishTarget(
      stepIndex,
      t,
      outcome.ok,
      cancelled,
      outcome.durationMs,
      action.method === 'timer' && outcome.ok ? describeTimer(action) : describeOutcome(outcome),
      new Date(),
    );
    noteOutcomeFact(this.state.data.steps[stepIndex], t, this.targets.length, action, outcome);
    const rerun = rerunOf(this.state, stepIndex, t);
    this.queue.verdict(step.id, toolKeyOf(step), target, outcome, rerun);
    this.saga.remember(stepIndex, t, outcome, rerun > 0);
    if (outcome.ok) return;
    if (this.plan.policies.rollback === 'all') {
      if (!this.data.stop) {
        this.state.log(
          new Date(),
          'error',
          `${target.name} failed and the plan rolls back every target on a failure: stopping`,
        );
        this.data.stop = 'rollback-all';
      }
    } else if (this.plan.policies.rollback === 'target' && !cancelled) {
      await CancellationScope.nonCancellable(() => this.saga.compensateTarget(t));
    }
  }

  private async compensate(): Promise<'done' | 'continue-as-new'> {
    const targets = this.saga.targetsToCompensate();
    if (targets.length > 0) {
      if (this.data.status !== 'rolling_back') {
        this.state.log(new Date(), 'warn', `Rolling back ${targets.length} target(s)`);
        // The undos do not wait for the status row (a database outage delays the record, not the rollback).
        void this.queue.setStatus('rolling_back');
      }
      await this.fanOut.window(
        targets,
        (t) => this.saga.compensateTarget(t),
        () => this.fanOut.continueAsNewNeeded,
      );
      this.queue.queueVerdicts();
      if (this.fanOut.continueAsNewNeeded) return 'continue-as-new';
    }
    this.data.phase = 'done';
    return 'done';
  }

  private async finish(): Promise<JobResult> {
    // A decision in flight is confirmed and answered (refused, the job being over) before the end.
    await condition(allHandlersFinished);
    await this.queue.settle(this.estimating);
    const { status, outcome } = outcomeOf(this.state, this.targets.length, this.jobTargetCount);
    const { failed } = this.data.rollback;
    if (failed > 0)
      this.state.log(
        new Date(),
        'error',
        `${failed} undo action(s) FAILED: those hosts are half-changed; see the rollback failures`,
      );
    // The end shows in the query and Temporal UI only once its record (row, outcome, audit) is written.
    await this.queue.record(() => records.recordJobStatus({ jobId: this.input.jobId, status, outcome }));
    this.queue.throwIfFailed();
    this.state.setStatus(status, new Date());
    upsertSearchAttributes([{ key: SearchAttribute.status, value: status }]);
    await this.announce(status, this.data.rollback.undone);
    return { jobId: this.input.jobId, status, ...outcome };
  }

  /** The end's notifications, once its record is written (the executor checks them against it). */
  private async announce(status: JobResult['status'], undone: number): Promise<void> {
    const log = (message: string) => this.state.log(new Date(), 'warn', message);
    const { jobId } = this.input;
    if (status === 'failed') await notify(jobId, 'job_failed', 1, log);
    if (undone > 0) await notify(jobId, 'rolled_back', 1, log);
    await notify(jobId, 'finished', 1, log);
  }

  private async continueAsNew(): Promise<never> {
    // Handlers first: what they write (an event, a status) is then settled with the rest.
    await condition(allHandlersFinished);
    await this.queue.settle(this.estimating);
    const info = workflowInfo();
    const next = makeContinueAsNewFunc<(input: RunJobInput) => Promise<JobResult>>({
      typedSearchAttributes: info.typedSearchAttributes,
      memo: info.memo ?? {},
    });
    return next({ ...this.input, carried: this.state.handOver() });
  }
}

/** Runs a job: approval, then its steps in order over their targets, undoing what failed per the plan, on the executor queue. */
export async function runJob(input: RunJobInput): Promise<JobResult> {
  const forged = (message: string) =>
    ApplicationFailure.create({ type: ErrorType.Forbidden, message: `refused to run: ${message}`, nonRetryable: true });
  // Anyone who reaches Temporal can start this workflow: state handed over without a continue-as-new
  // is forged, and an input the run cannot even be built from fails the run, not its task forever.
  if (input.carried !== undefined && workflowInfo().continuedFromExecutionRunId === undefined)
    throw forged('handed-over state, but this run did not continue an earlier one');
  // State handed over by code that wrote another version (or another shape) is refused, not misread.
  const carried = input.carried === undefined ? undefined : readCarriedJobState(input.carried);
  if (carried && 'refused' in carried)
    throw ApplicationFailure.create({
      type: ErrorType.ValidationFailed,
      message: `refused to continue: ${carried.refused}`,
      nonRetryable: true,
    });
  // Check mode came after jobs were running: only a check-mode job (none before it) takes the branch.
  const check = input.mode === 'check' && patched('check-mode');
  let job: JobRun;
  try {
    job = new JobRun(input, carried?.state, check);
  } catch (err) {
    throw forged(`the input is not a job (${(err as Error).message})`);
  }
  job.installHandlers();
  return job.run();
}
