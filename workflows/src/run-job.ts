import { proxyActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { EXECUTOR_TARGET, TaskQueue, type JobResult, type JobStatus, type OrchestratorActivities, type RunJobInput, type StepResult, type StepVerdict } from '@opsc/contracts';
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

/** Runs a plan's steps in order on the executor queue, recording each result. */
export async function runJob(input: RunJobInput): Promise<JobResult> {
  const { jobId, plan } = input;
  const targets = [EXECUTOR_TARGET];
  const tracker = new ProgressTracker(jobId, plan, targets.length, new Date());
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
    let stepFailed = false;
    const stepResults: StepResult[] = [];
    for (const target of targets) {
      tracker.startTarget(index, target.name);
      const result = await runStep(step, target, input);
      stepResults.push(result);
      results.push(result);
      tracker.finishTarget(index, result, describeResult(result), new Date());
      stepFailed ||= result.status === 'failed';
    }
    tracker.finishStep(index, stepFailed ? 'failed' : 'succeeded', new Date());
    await records.recordStepResults({ jobId, verdicts: stepResults.map(toVerdict) });
    failed ||= stepFailed;
  }
  const status: JobStatus = failed ? 'failed' : 'completed';
  await setStatus(tracker, jobId, status);
  return { jobId, status, results };
}
