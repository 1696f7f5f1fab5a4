import {
  CARRIED_JOB_STATE_VERSION,
  Cell,
  stepFactsOf,
  stepNumber,
  type ApprovalState,
  type CarriedJobState,
  type CompensationFailure,
  type JobProgress,
  type JobStatus,
  type LogEntry,
  type Plan,
  type StepMeta,
  type TargetState,
} from '@opsc/contracts';
import { expectedOf, stateEta } from './job-eta.js';

const MAX_LOG_LINES = 50;
const MAX_FAILURES_SHOWN = 50;

/** The job's live state inside the workflow: plain data and arithmetic, so it stays deterministic and cheap. */
export class JobState {
  /** Everything the job knows, as plain data: the `progress` query reads it, a continued run is handed it whole. */
  readonly data: CarriedJobState;
  private readonly grid: string[][];
  /** Start times (ms) of the current step's running targets, for the ETA. */
  private readonly runningSince = new Map<number, number>();
  /** Per target, the index of the last step that acts on it. */
  private readonly lastStepOf: number[];
  /** Failed targets, counted again only when a target's state may have turned failed. */
  private failedCache: number | null = null;

  constructor(
    private readonly jobId: string,
    private readonly plan: Plan,
    private readonly targetNames: readonly string[],
    /** For each step, the job target indexes it acts on. */
    private readonly stepTargets: readonly (readonly number[])[],
    /** The executor's own column (steps without targets), or -1: it never drops out of later steps. */
    private readonly executorIndex: number,
    seed: CarriedJobState | { approval: ApprovalState; now: Date; starts?: readonly number[] },
    /** A retry job only: the job it retries and the first job of its lineage. */
    private readonly retryOf?: { jobId: string; rootJobId: string },
  ) {
    if ('phase' in seed) {
      this.data = seed;
    } else {
      this.data = {
        version: CARRIED_JOB_STATE_VERSION,
        phase: 'approval',
        status: 'queued',
        startedAt: seed.now.toISOString(),
        finishedAt: null,
        stepIndex: 0,
        steps: plan.steps.map(() => ({
          status: 'pending',
          expectedSeconds: null,
          expectedFrom: 'none',
          observedMs: 0,
          observedCount: 0,
        })),
        // A retry job's target starts where it stopped: the steps before stand from an earlier job.
        cells: stepTargets.map((indexes, step) => {
          const row = new Array<string>(targetNames.length).fill(Cell.notInStep);
          for (const i of indexes) row[i] = step < (seed.starts?.[i] ?? 0) ? Cell.doneBefore : Cell.pending;
          return row.join('');
        }),
        targetStates: targetNames.map(() => 'pending'),
        undo: {},
        approval: seed.approval,
        decision: null,
        thresholdWaived: false,
        paused: false,
        cancel: null,
        stop: null,
        rollback: { undone: 0, failed: 0, failures: [], halfChanged: [] },
        logs: [],
        runs: 0,
        eventSeq: 0,
        etaSetAt: null,
      };
    }
    this.grid = this.data.cells.map((row) => [...row]);
    this.lastStepOf = targetNames.map(() => -1);
    stepTargets.forEach((indexes, step) => {
      for (const t of indexes) this.lastStepOf[t] = step;
    });
  }

  /** The data to hand to the next run, cells flattened back to strings. */
  handOver(): CarriedJobState {
    return { ...this.data, cells: this.grid.map((row) => row.join('')), runs: this.data.runs + 1 };
  }

  setStatus(status: JobStatus, now: Date): void {
    this.data.status = status;
    if (status === 'completed' || status === 'failed' || status === 'cancelled' || status === 'rejected')
      this.data.finishedAt = now.toISOString();
  }

  cell(step: number, target: number): string {
    return this.grid[step]?.[target] ?? Cell.notInStep;
  }

  setCell(step: number, target: number, code: Cell): void {
    const row = this.grid[step];
    if (!row || row[target] === Cell.notInStep) return;
    // A cell that leaves `failed` (decide `retry`) may leave its target failed no more.
    if (row[target] === Cell.failed) this.failedCache = null;
    row[target] = code;
  }

  /** The targets of a step still to be launched: pending, and not failed in an earlier step. */
  pendingTargets(step: number): number[] {
    return (this.stepTargets[step] ?? []).filter((t) => this.cell(step, t) === Cell.pending && !this.dropsOut(t));
  }

  /** A failed target is left out of later steps; the executor is not a target and stays in. */
  private dropsOut(target: number): boolean {
    return target !== this.executorIndex && this.hasFailed(target);
  }

  hasFailed(target: number): boolean {
    const s = this.data.targetStates[target];
    return s === 'failed' || s === 'rolled_back' || s === 'rollback_failed' || s === 'cancelled';
  }

  failedCount(): number {
    this.failedCache ??= this.data.targetStates.filter((_, i) => this.hasFailed(i)).length;
    return this.failedCache;
  }

  startStep(index: number, now: Date): void {
    const step = this.data.steps[index];
    if (!step) throw new RangeError(`no step at index ${index}`);
    this.data.stepIndex = index;
    if (step.status === 'pending') {
      step.status = 'running';
      step.startedAt = now.toISOString();
      const { steps } = this.plan;
      const of = `Step ${stepNumber(steps, index)} of ${stepNumber(steps, steps.length - 1)}`;
      this.log(now, 'info', `${of}: ${steps[index]?.name}`, steps[index]?.id);
    }
    // Targets that dropped out earlier are skipped here; the rest wait their turn.
    for (const t of this.stepTargets[index] ?? [])
      if (this.dropsOut(t) && this.cell(index, t) === Cell.pending) this.setCell(index, t, Cell.skipped);
    this.runningSince.clear();
  }

  startTarget(step: number, target: number, now: Date): void {
    this.setCell(step, target, Cell.running);
    this.data.targetStates[target] = 'running';
    this.runningSince.set(target, now.getTime());
  }

  finishTarget(
    step: number,
    target: number,
    ok: boolean,
    cancelled: boolean,
    durationMs: number,
    summary: string,
    now: Date,
  ): void {
    this.runningSince.delete(target);
    this.setCell(step, target, ok ? Cell.succeeded : cancelled ? Cell.cancelled : Cell.failed);
    const meta = this.data.steps[step];
    if (meta && ok) {
      meta.observedMs += durationMs;
      meta.observedCount += 1;
      meta.observedMaxMs = Math.max(meta.observedMaxMs ?? 0, durationMs);
    }
    if (!ok) this.failedCache = null;
    const lastStepOfTarget = this.lastStepOf[target] ?? step;
    const before = this.data.targetStates[target];
    const failedBefore = before === 'failed' || before === 'cancelled';
    this.data.targetStates[target] = !ok
      ? cancelled
        ? 'cancelled'
        : 'failed'
      : failedBefore
        ? before
        : step >= lastStepOfTarget
          ? 'completed'
          : 'pending';
    this.log(now, ok ? 'info' : 'error', summary, this.plan.steps[step]?.id, this.targetNames[target]);
  }

  finishStep(index: number, now: Date): void {
    const step = this.data.steps[index];
    if (!step) return;
    const row = this.grid[index] ?? [];
    for (const [t, code] of row.entries()) if (code === Cell.pending) row[t] = Cell.skipped;
    step.status = row.some((c) => c === Cell.failed || c === Cell.cancelled)
      ? 'failed'
      : row.every((c) => c === Cell.skipped || c === Cell.notInStep)
        ? 'skipped'
        : 'succeeded';
    step.finishedAt = now.toISOString();
  }

  /** Marks every step not yet run as skipped (the job stopped). */
  skipRemaining(fromIndex: number, now: Date): void {
    for (let i = fromIndex; i < this.plan.steps.length; i++) {
      const step = this.data.steps[i];
      if (!step || step.status !== 'pending') continue;
      step.status = 'skipped';
      for (const [t, code] of (this.grid[i] ?? []).entries())
        if (code === Cell.pending) this.setCell(i, t, Cell.skipped);
      this.log(now, 'warn', `Skipped: ${this.plan.steps[i]?.name}`, this.plan.steps[i]?.id);
    }
    // Targets still waiting for a step will not get it.
    for (const [t, s] of this.data.targetStates.entries())
      if (s === 'pending' || s === 'running') this.data.targetStates[t] = 'skipped';
  }

  recordUndone(step: number, target: number, ok: boolean, failure: CompensationFailure | null, now: Date): void {
    if (ok) {
      this.data.rollback.undone += 1;
      const was = this.cell(step, target);
      if (was === Cell.succeeded || was === Cell.doneBefore) this.setCell(step, target, Cell.rolledBack);
      this.log(
        now,
        'info',
        `Undone: ${this.plan.steps[step]?.name}`,
        this.plan.steps[step]?.id,
        this.targetNames[target],
      );
    } else if (failure) {
      this.data.rollback.failed += 1;
      this.setCell(step, target, Cell.rollbackFailed);
      if (this.data.rollback.failures.length < MAX_FAILURES_SHOWN) this.data.rollback.failures.push(failure);
      this.log(
        now,
        'error',
        `ROLLBACK FAILED: ${failure.message}`,
        this.plan.steps[step]?.id,
        this.targetNames[target],
      );
    }
  }

  /** After a target's undo stack ran: rolled back only when every one of its changes was undone; else half-changed,
   *  with what was and was not undone (step ids, in the order they were tried). */
  finishCompensation(target: number, undone: readonly string[], notUndone: readonly string[], now: Date): void {
    this.failedCache = null;
    const name = this.targetNames[target] ?? String(target);
    if (notUndone.length === 0) {
      this.data.targetStates[target] = 'rolled_back';
      return;
    }
    this.data.targetStates[target] = 'rollback_failed';
    const halfChanged = (this.data.rollback.halfChanged ??= []);
    if (halfChanged.length < MAX_FAILURES_SHOWN)
      halfChanged.push({ target: name, undone: [...undone], notUndone: [...notUndone] });
    this.log(
      now,
      'error',
      `HALF-CHANGED: ${notUndone.length} change(s) not undone (${notUndone.join(', ')}); undone: ${undone.join(', ') || 'none'}`,
      undefined,
      name,
    );
  }

  setExpected(
    index: number,
    seconds: number | null,
    from: StepMeta['expectedFrom'],
    tailSeconds: number | null = seconds,
  ): void {
    const step = this.data.steps[index];
    if (step) Object.assign(step, { expectedSeconds: seconds, expectedTailSeconds: tailSeconds, expectedFrom: from });
  }

  log(now: Date, level: LogEntry['level'], message: string, stepId?: string, target?: string): void {
    this.data.logs.push({
      at: now.toISOString(),
      level,
      message,
      ...(stepId && { stepId }),
      ...(target && { target }),
    });
    if (this.data.logs.length > MAX_LOG_LINES) this.data.logs.shift();
  }

  nextEventKey(kind: string): string {
    this.data.eventSeq += 1;
    return `${this.jobId}:${this.data.eventSeq}:${kind}`;
  }

  /** The ETA (see `stateEta`): null when nothing is known or the job is not running. */
  estimate(now: Date): ReturnType<typeof stateEta> {
    const running = [...this.runningSince.values()].map((since) => (now.getTime() - since) / 1000);
    return stateEta(this.plan, this.data, this.grid, running, (t) => this.dropsOut(t), now);
  }

  /** Seconds until the job ends: 0 once it has, null when nothing is known or it is not running. */
  remainingSeconds(now: Date): number | null {
    return this.estimate(now)?.seconds ?? null;
  }

  snapshot(now: Date): JobProgress {
    const { data } = this;
    const steps = this.plan.steps.map((step, i) => {
      const row = this.grid[i] ?? [];
      const count = (code: string) => row.filter((c) => c === code).length;
      const inStep = row.filter((c) => c !== Cell.notInStep).length;
      const meta = data.steps[i]!;
      const expected = expectedOf(meta);
      return {
        id: step.id,
        name: step.name,
        status: meta.status,
        ...(meta.startedAt && { startedAt: meta.startedAt }),
        ...(meta.finishedAt && { finishedAt: meta.finishedAt }),
        targets: {
          total: inStep,
          completed: count(Cell.succeeded) + count(Cell.rolledBack) + count(Cell.rollbackFailed),
          failed: count(Cell.failed) + count(Cell.cancelled),
          running: count(Cell.running),
          pending: count(Cell.pending),
          skipped: count(Cell.skipped),
          rolledBack: count(Cell.rolledBack),
          ...(this.retryOf && { doneBefore: count(Cell.doneBefore) }),
        },
        expectedSeconds: expected.seconds === null ? null : Math.round(expected.seconds * 10) / 10,
        expectedFrom: expected.from,
        ...(meta.facts && { facts: stepFactsOf(meta.facts, meta.bytes, (t) => row[t] === Cell.rolledBack) }),
      };
    });
    const states = data.targetStates;
    const n = (...s: TargetState[]) => states.filter((x) => s.includes(x)).length;
    const current = data.stepIndex;
    const started = data.steps.some((s) => s.status !== 'pending');
    const estimate = this.estimate(now);
    const remaining = estimate?.seconds ?? null;
    const runningTargets = (this.grid[current] ?? []).flatMap((c, t) =>
      c === Cell.running ? [this.targetNames[t] ?? String(t)] : [],
    );
    return {
      jobId: this.jobId,
      status: data.status,
      currentStep: started ? current + 1 : 0,
      totalSteps: this.plan.steps.length,
      stepName: started ? (this.plan.steps[current]?.name ?? null) : null,
      targetProgress: {
        total: states.length,
        completed: n('completed'),
        failed: n('failed', 'rolled_back', 'rollback_failed', 'cancelled'),
        running: n('running'),
        pending: n('pending', 'skipped'),
        rolledBack: n('rolled_back'),
        currentTargets: runningTargets.slice(0, 100),
      },
      steps,
      targets: [...this.targetNames],
      targetStates: [...states],
      matrix: this.grid.map((row) => row.join('')),
      ...(data.checks && { mode: 'check' as const, checks: [...data.checks] }),
      startedAt: data.startedAt,
      finishedAt: data.finishedAt,
      estimatedSecondsRemaining: remaining === null ? null : Math.round(remaining),
      eta: remaining === null ? null : new Date(now.getTime() + remaining * 1000).toISOString(),
      ...(estimate?.range && data.finishedAt === null && { etaRange: estimate.range }),
      paused: data.paused,
      cancelRequested: data.cancel !== null,
      approval: { ...data.approval },
      decision: data.decision && { ...data.decision },
      rollback: {
        policy: this.plan.policies.rollback,
        undone: data.rollback.undone,
        failed: data.rollback.failed,
        failures: [...data.rollback.failures],
        halfChanged: (data.rollback.halfChanged ?? []).map((h) => ({
          ...h,
          undone: [...h.undone],
          notUndone: [...h.notUndone],
        })),
      },
      ...(this.retryOf && { retryOf: { ...this.retryOf } }),
      runs: data.runs + 1,
      logs: [...data.logs],
    };
  }
}
