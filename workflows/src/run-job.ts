import { proxyActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import {
  EXECUTOR_TARGET,
  TaskQueue,
  type JobResult,
  type JobStatus,
  type OrchestratorActivities,
  type RunJobInput,
  type Step,
  type StepResult,
  type StepVerdict,
  type TargetRef,
} from '@opsc/contracts';
import { SearchAttribute, progressQuery } from '@opsc/contracts/temporal';
import { ProgressTracker } from './progress-tracker.js';
import { describeResult, runStep } from './run-step.js';

// Bookkeeping must land even if PostgreSQL is briefly away, so it retries without a cap.
const records = proxyActivities<OrchestratorActivities>({
  taskQueue: TaskQueue.orchestrator,
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '30s' },
});

const setStatus = async (tracker: ProgressTracker, jobId: string, status: JobStatus): Promise<void> => {
  tracker.setStatus(status, new Date());
  upsertSearchAttributes([{ key: SearchAttribute.status, value: status }]);
  await records.recordJobStatus({ jobId, status });
};

const toVerdict = ({ stepId, target, status, error }: StepResult): StepVerdict => ({
  stepId,
  target,
  status,
  ...(error && { error }),
});

/** Runs `work` over `items` with at most `limit` in flight: a sliding window, not batches. */
const mapBounded = async <T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> => {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
};

/** The targets a step acts on: its resolved inventory targets, or the executor itself. */
const targetsOf = (step: Step, input: RunJobInput): TargetRef[] => {
  if (!step.targets) return [EXECUTOR_TARGET];
  return (input.stepTargets[step.id] ?? []).map((i) => {
    const target = input.targets[i];
    if (!target) throw new RangeError(`step ${step.id} refers to target #${i}, which the job does not have`);
    return target;
  });
};

/** Runs a plan's steps in order on the executor queue, each over its targets in parallel, recording each result. */
export async function runJob(input: RunJobInput): Promise<JobResult> {
  const { jobId, plan } = input;
  const stepTargets = plan.steps.map((step) => targetsOf(step, input));
  const tracker = new ProgressTracker(jobId, plan, stepTargets.map((t) => t.length), new Date());
  setHandler(progressQuery, () => tracker.snapshot(new Date()));

  await setStatus(tracker, jobId, 'running');
  const results: StepResult[] = [];
  let failed = false;
  for (const [index, step] of plan.steps.entries()) {
    if (failed && !plan.policies.continueOnFailure) {
      tracker.skipRemaining(index, new Date());
      break;
    }
    tracker.startStep(index, new Date());
    upsertSearchAttributes([{ key: SearchAttribute.step, value: step.id }]);
    const stepResults = await mapBounded(stepTargets[index] ?? [], plan.policies.maxParallel, async (target) => {
      tracker.startTarget(index, target.name);
      const result = await runStep(step, target, input);
      tracker.finishTarget(index, result, describeResult(result), new Date());
      return result;
    });
    results.push(...stepResults);
    const stepFailed = stepResults.some((r) => r.status === 'failed');
    tracker.finishStep(index, stepFailed ? 'failed' : 'succeeded', new Date());
    await records.recordStepResults({ jobId, verdicts: stepResults.map(toVerdict) });
    failed ||= stepFailed;
  }
  const status: JobStatus = failed ? 'failed' : 'completed';
  await setStatus(tracker, jobId, status);
  return { jobId, status, results };
}
