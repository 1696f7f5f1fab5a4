import { proxyActivities } from '@temporalio/workflow';
import {
  NON_RETRYABLE_ERROR_TYPES,
  TaskQueue,
  type ActionOutput,
  type ExecutorActivities,
  type RunJobInput,
  type Step,
  type StepResult,
  type TargetRef,
} from '@opsc/contracts';
import { classifyActivityFailure } from './failure.js';

/** Seconds the activity may run past the step's own timeout, to stop the process and report. */
const CLEANUP_MARGIN_SECONDS = 30;

const executorFor = (step: Step, input: RunJobInput) =>
  proxyActivities<ExecutorActivities>({
    taskQueue: TaskQueue.executor,
    startToCloseTimeout: `${step.timeoutSeconds + CLEANUP_MARGIN_SECONDS}s`,
    heartbeatTimeout: `${input.options.heartbeatTimeoutSeconds}s`,
    retry: {
      maximumAttempts: step.maxAttempts ?? input.plan.policies.maxAttempts,
      initialInterval: '2s',
      backoffCoefficient: 2,
      maximumInterval: '1m',
      nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
    },
  });

const dispatch = (step: Step, target: TargetRef, input: RunJobInput): Promise<ActionOutput> => {
  const executor = executorFor(step, input);
  const context = { jobId: input.jobId, stepId: step.id, target, timeoutSeconds: step.timeoutSeconds };
  const { action } = step;
  switch (action.method) {
    case 'local-command':
      return executor.runLocalCommand({ ...context, command: action.command, args: action.args });
    case 'http':
      return executor.sendHttpRequest({
        ...context,
        url: action.url,
        httpMethod: action.httpMethod,
        headers: action.headers,
        ...(action.body !== undefined && { body: action.body }),
      });
    case 'ssh':
      return executor.runSshOperation({ ...context, operation: action.operation, become: action.become });
    case 'winrm':
      return executor.runWinrmOperation({ ...context, operation: action.operation });
    case 'database':
      return executor.runDatabaseQuery({ ...context, query: action.query, allowWrites: action.allowWrites, maxRows: action.maxRows });
  }
};

/** The step's own success criteria: a result that ran is not necessarily a success. */
const judge = (step: Step, output: ActionOutput): StepResult['error'] => {
  const { action } = step;
  if (output.kind === 'command' && action.method !== 'http') {
    const success = action.method === 'database' ? [0] : action.successExitCodes;
    if (output.exitCode !== null && success.includes(output.exitCode)) return undefined;
    const how = output.exitCode === null ? `killed by ${output.signal ?? 'a signal'}` : `exit code ${output.exitCode}`;
    // The last thing the command said on stderr is usually why (access denied, a wait that timed out).
    const why = output.stderr.split(/\r?\n/).map((l) => l.trim()).filter(Boolean).at(-1)?.slice(0, 300);
    return { type: 'CommandFailed', message: `command ended with ${how}${why ? `: ${why}` : ''}` };
  }
  if (output.kind === 'http' && action.method === 'http') {
    const ok = action.expectStatus ? action.expectStatus.includes(output.status) : output.status >= 200 && output.status < 300;
    return ok ? undefined : { type: 'UnexpectedStatus', message: `HTTP ${output.status}` };
  }
  return { type: 'Internal', message: `output of kind ${output.kind} does not fit method ${action.method}` };
};

/** Runs one step on one target through the executor queue and judges the outcome. */
export const runStep = async (step: Step, target: TargetRef, input: RunJobInput): Promise<StepResult> => {
  const startedAt = new Date().toISOString();
  try {
    const output = await dispatch(step, target, input);
    const error = judge(step, output);
    const finishedAt = new Date().toISOString();
    return { stepId: step.id, target, status: error ? 'failed' : 'succeeded', output, ...(error && { error }), startedAt, finishedAt };
  } catch (err) {
    const error = classifyActivityFailure(err);
    return { stepId: step.id, target, status: 'failed', error, startedAt, finishedAt: new Date().toISOString() };
  }
};

/** One log line that says how a step went on a target. */
export const describeResult = (result: StepResult): string => {
  const output = result.output;
  const took = output ? ` in ${Math.round(output.durationMs)} ms` : '';
  if (result.status === 'succeeded') {
    return output?.kind === 'http' ? `HTTP ${output.status}${took}` : `exit code ${output?.exitCode ?? 0}${took}`;
  }
  return `${result.error?.type ?? 'Failed'}: ${result.error?.message ?? 'unknown'}${took}`;
};
