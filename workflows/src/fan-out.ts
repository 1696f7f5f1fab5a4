import { condition, patched, workflowInfo } from '@temporalio/workflow';
import type { JobOptions, Plan } from '@opsc/contracts';
import type { JobState } from './job-state.js';
import type { RecordsQueue } from './records-queue.js';
import { notify } from './notify.js';
import { applyRetry, questionNumber, retryOffer } from './retry-now.js';

/**
 * How the job fans out over its targets: waves of steps, a sliding window of at most `maxParallel`
 * items in flight, the failure threshold that stops (or asks before) launching more, and the
 * history budget that makes the run continue as new.
 */
export class FanOut {
  /** The history is long: the lanes stop launching and the run continues as new. */
  continueAsNewNeeded = false;

  constructor(
    private readonly plan: Plan,
    private readonly options: JobOptions,
    private readonly state: JobState,
    /** Targets of the job (without the executor's own column): what the fail percentage is of. */
    private readonly jobTargetCount: number,
    private readonly queue: RecordsQueue,
  ) {}

  private get data() {
    return this.state.data;
  }

  /** Runs of consecutive steps that go together: the OS variants of one plan step run at the same time. */
  phases(): number[][] {
    const out: number[][] = [];
    for (const [i, step] of this.plan.steps.entries()) {
      const last = out.at(-1);
      const previous = last ? this.plan.steps[last[0]!] : undefined;
      if (last && step.variantOf && previous?.variantOf === step.variantOf) last.push(i);
      else out.push([i]);
    }
    return out;
  }

  /** The lanes of a sliding window: at most `maxParallel` items in flight, the next starting as soon as one ends. */
  async window(items: readonly number[], work: (item: number) => Promise<void>, stop: () => boolean): Promise<void> {
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

  /** Whether the steps' lanes launch no more targets. */
  stopLaunching(): boolean {
    return (
      this.data.stop !== null || this.continueAsNewNeeded || (this.thresholdCrossed() && !this.data.thresholdWaived)
    );
  }

  private historyTooLong(): boolean {
    const info = workflowInfo();
    return info.historyLength >= this.options.historyEventLimit || info.continueAsNewSuggested;
  }

  thresholdCrossed(): boolean {
    if (this.data.thresholdWaived) return false;
    const failed = this.state.failedCount();
    if (failed === 0) return false;
    const { continueOnFailure, maxFailPercentage } = this.plan.policies;
    return !continueOnFailure || (failed * 100) / Math.max(1, this.jobTargetCount) > maxFailPercentage;
  }

  /**
   * Past the threshold: stop, or ask (continue, roll back, or run the failed targets of `phase`
   * again?) and wait for the answer or its deadline.
   */
  async onThreshold(phase: readonly number[], targetNames: readonly string[], check: boolean): Promise<void> {
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
    // Asked before retrying existed, a question offers continue and roll back only (replay).
    const retry = patched('retry-now') ? retryOffer(this.plan, this.state, phase, targetNames, check) : undefined;
    // The failures are on record before anyone may choose to run them again (the executor checks them).
    if (retry) this.queue.queueVerdicts();
    const now = new Date();
    this.data.decision = {
      status: 'pending',
      reason: retry && retry.rerun > 1 ? `${reason} (after retry ${retry.rerun - 1})` : reason,
      askedAt: now.toISOString(),
      deadline: new Date(now.getTime() + decisionTimeoutSeconds * 1000).toISOString(),
      ...(retry && { retry }),
    };
    const choices =
      retry && !retry.unavailable
        ? `continue, roll back, or retry the ${retry.targets.length} failed target(s) now`
        : 'continue or roll back';
    this.state.log(now, 'warn', `${this.data.decision.reason}: waiting for a decision, ${choices}`);
    await this.queue.setStatus('awaiting_decision');
    // A plan waives its threshold once continued, so a job asks (and notifies) again only after a retry.
    const n = retry ? questionNumber(this.state, this.phases()) : 1;
    await notify(workflowInfo().workflowId, 'awaiting_decision', n, (m) => this.state.log(new Date(), 'warn', m));
    const decision = this.data.decision;
    const answered = await condition(
      () => decision.status !== 'pending' || this.data.cancel !== null,
      decisionTimeoutSeconds * 1000,
    );
    if (!answered) {
      decision.status = 'timed_out';
      this.state.log(new Date(), 'warn', `No decision within ${decisionTimeoutSeconds} s: rolling back`);
      await this.queue.event('decision-timeout', { by: 'workflow' });
    }
    if (this.data.cancel) return;
    if (decision.status === 'retry' && retry) {
      const count = applyRetry(this.state, phase, retry.rerun);
      this.state.log(new Date(), 'warn', `Running ${count} failed target(s) again (retry ${retry.rerun})`);
      await this.queue.setStatus(this.data.paused ? 'paused' : 'running');
    } else if (decision.status === 'continue') {
      this.data.thresholdWaived = true;
      await this.queue.setStatus(this.data.paused ? 'paused' : 'running');
    } else {
      this.data.stop = 'rollback-all';
    }
  }
}
