import type { JobProgress, JobStatus, LogEntry, Plan, StepProgress, StepResult, StepStatus } from '@opsc/contracts';

const MAX_LOG_LINES = 50;

/**
 * The job's live state inside the workflow. Pure data and arithmetic so it stays deterministic and
 * the `progress` query stays cheap: counts are kept, not recomputed from results.
 */
export class ProgressTracker {
  private status: JobStatus = 'queued';
  private currentStep = 0;
  private readonly steps: StepProgress[];
  private readonly running = new Set<string>();
  private readonly logs: LogEntry[] = [];
  private readonly startedAt: string;
  private finishedAt: string | null = null;
  private readonly stepDurationsMs: number[] = [];

  constructor(
    private readonly jobId: string,
    plan: Plan,
    /** How many targets each step acts on. */
    targetCounts: readonly number[],
    now: Date,
  ) {
    this.startedAt = now.toISOString();
    this.steps = plan.steps.map((step, index) => {
      const total = targetCounts[index] ?? 0;
      return { id: step.id, name: step.name, status: 'pending', targets: { total, completed: 0, failed: 0, running: 0, pending: total } };
    });
  }

  setStatus(status: JobStatus, now: Date): void {
    this.status = status;
    if (status === 'completed' || status === 'failed' || status === 'cancelled') this.finishedAt = now.toISOString();
  }

  startStep(index: number, now: Date): void {
    const step = this.stepAt(index);
    this.currentStep = index + 1;
    step.status = 'running';
    step.startedAt = now.toISOString();
    this.log(now, 'info', `Step ${index + 1} of ${this.steps.length}: ${step.name}`, step.id);
  }

  startTarget(index: number, target: string): void {
    const counts = this.stepAt(index).targets;
    counts.pending -= 1;
    counts.running += 1;
    this.running.add(target);
  }

  finishTarget(index: number, result: StepResult, summary: string, now: Date): void {
    const step = this.stepAt(index);
    step.targets.running -= 1;
    if (result.status === 'succeeded') step.targets.completed += 1;
    else step.targets.failed += 1;
    this.running.delete(result.target.name);
    this.log(now, result.status === 'succeeded' ? 'info' : 'error', summary, step.id, result.target.name);
  }

  finishStep(index: number, status: Extract<StepStatus, 'succeeded' | 'failed'>, now: Date): void {
    const step = this.stepAt(index);
    step.status = status;
    step.finishedAt = now.toISOString();
    if (step.startedAt) this.stepDurationsMs.push(now.getTime() - Date.parse(step.startedAt));
  }

  skipRemaining(fromIndex: number, now: Date): void {
    for (const step of this.steps.slice(fromIndex)) {
      step.status = 'skipped';
      this.log(now, 'warn', `Skipped: ${step.name}`, step.id);
    }
  }

  log(now: Date, level: LogEntry['level'], message: string, stepId?: string, target?: string): void {
    this.logs.push({ at: now.toISOString(), level, message, ...(stepId && { stepId }), ...(target && { target }) });
    if (this.logs.length > MAX_LOG_LINES) this.logs.shift();
  }

  snapshot(now: Date): JobProgress {
    const last = this.steps[Math.max(0, this.currentStep - 1)];
    const total = last?.targets.total ?? 0;
    const failed = Math.max(0, ...this.steps.map((s) => s.targets.failed));
    const finished = this.status !== 'running' && this.status !== 'queued';
    const completed = finished ? total - failed : (last?.targets.completed ?? 0);
    const running = last?.targets.running ?? 0;
    return {
      jobId: this.jobId,
      status: this.status,
      currentStep: this.currentStep,
      totalSteps: this.steps.length,
      stepName: last && this.currentStep > 0 ? last.name : null,
      targetProgress: {
        total,
        completed,
        failed,
        running,
        pending: Math.max(0, total - completed - failed - running),
        currentTargets: [...this.running],
      },
      steps: this.steps.map((s) => ({ ...s, targets: { ...s.targets } })),
      startedAt: this.startedAt,
      finishedAt: this.finishedAt,
      estimatedSecondsRemaining: this.estimateRemaining(now),
      logs: [...this.logs],
    };
  }

  private estimateRemaining(now: Date): number | null {
    if (this.finishedAt) return 0;
    if (this.stepDurationsMs.length === 0) return null;
    const meanMs = this.stepDurationsMs.reduce((a, b) => a + b, 0) / this.stepDurationsMs.length;
    const current = this.steps[this.currentStep - 1];
    const doneSteps = this.steps.filter((s) => s.status !== 'pending' && s.status !== 'running').length;
    const remainingSteps = this.steps.length - doneSteps;
    const elapsedInCurrent = current?.status === 'running' && current.startedAt ? now.getTime() - Date.parse(current.startedAt) : 0;
    return Math.max(0, Math.round((remainingSteps * meanMs - elapsedInCurrent) / 1000));
  }

  private stepAt(index: number): StepProgress {
    const step = this.steps[index];
    if (!step) throw new RangeError(`no step at index ${index}`);
    return step;
  }
}
