import { actionRisk, toolKeyOf, type RunJobInput, type TargetRef, type UndoEntry } from '@opsc/contracts';
import type { JobState } from './job-state.js';
import { records, type RecordsQueue } from './records-queue.js';
import { describeOutcome, runWhenRecorded, type Outcome } from './run-step.js';
import { undoEntryFor } from './saga.js';

/** Undo actions get more attempts than steps: they are what stands between a host and a half-done change. */
const MIN_UNDO_ATTEMPTS = 5;

/** The saga: what each target's changes are undone by, and the undoing of them, newest first. */
export class Compensation {
  constructor(
    private readonly input: RunJobInput,
    /** The job's targets and the executor's own column, by index. */
    private readonly targets: readonly TargetRef[],
    private readonly state: JobState,
    private readonly queue: RecordsQueue,
  ) {}

  private get plan() {
    return this.input.plan;
  }

  private get data() {
    return this.state.data;
  }

  /**
   * Keeps what undoes a step's run on a target. Only a step whose action changes something has
   * anything to undo (what the action does, not what the plan says), and what the run changed
   * decides whether it is undone: a run that failed before changing anything is not.
   */
  remember(stepIndex: number, t: number, outcome: Outcome, rerun = false): void {
    const step = this.plan.steps[stepIndex]!;
    if (actionRisk(step.action) === 'read') return;
    const undo = undoEntryFor(step, stepIndex, outcome);
    if (!undo) return;
    const stack = (this.data.undo[t] ??= []);
    // A re-run's undo stands for the step on the target: the executor fills it with the latest run's
    // facts. One that changed nothing keeps the earlier run's undo (if that cannot be filled any
    // more, the undo fails loudly and the host is reported half-changed).
    if (rerun) this.data.undo[t] = stack.filter((e) => e.step !== stepIndex);
    this.data.undo[t]!.push(undo);
  }

  /** Which targets' changes are undone now that the steps are over. */
  targetsToCompensate(): number[] {
    const { rollback } = this.plan.policies;
    const everyone = this.data.stop === 'rollback-all' || (this.data.cancel !== null && rollback === 'all');
    const cancelledOnly = this.data.cancel !== null && rollback === 'target';
    return this.targets
      .map((_, t) => t)
      .filter((t) => (this.data.undo[t]?.length ?? 0) > 0 && (everyone || (cancelledOnly && this.state.hasFailed(t))));
  }

  /**
   * Undoes one target's changes, newest first. A failed undo is reported and the older ones still
   * run; the target is rolled back only if every one of them ran and succeeded, else half-changed.
   */
  async compensateTarget(t: number): Promise<void> {
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
        this.queue.verdict(
          `${step.id}.rollback`,
          step.rollback?.tool ?? `${toolKeyOf(step)}.rollback`,
          target,
          outcome,
        );
        if (!outcome.ok)
          failure = `undo of "${step.name}" (${step.rollback?.name ?? 'rollback'}) failed: ${describeOutcome(outcome)}`;
      }
      stack.pop();
      (failure === null ? undone : notUndone).push(step.id);
      this.state.recordUndone(
        entry.step,
        t,
        failure === null,
        failure === null ? null : { target: target.name, stepId: step.id, message: failure },
        new Date(),
      );
      // On record in order with the rest, but the older undos do not wait for the database.
      if (failure) {
        const event = this.queue.eventEntry(
          'compensation-failed',
          { by: 'workflow' },
          { target: target.name, stepId: step.id, message: failure },
        );
        void this.queue.record(() => records.recordJobEvent(event));
      }
    }
    this.state.finishCompensation(t, undone, notUndone, new Date());
  }

  /** Runs one undo action (see `runWhenRecorded`). */
  private runUndo(entry: UndoEntry, target: TargetRef): Promise<Outcome> {
    const step = this.plan.steps[entry.step]!;
    return runWhenRecorded(
      {
        stepId: `${step.id}.rollback`,
        action: entry.action!,
        timeoutSeconds: step.timeoutSeconds,
        maxAttempts: Math.max(MIN_UNDO_ATTEMPTS, step.maxAttempts ?? this.plan.policies.maxAttempts),
      },
      target,
      this.input,
      `the undo of "${step.name}"`,
      this.state,
    );
  }
}
