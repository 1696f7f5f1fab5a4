import { ActivityCancellationType, isCancellation, proxyActivities, sleep } from '@temporalio/workflow';
import {
  ErrorType,
  NON_RETRYABLE_ERROR_TYPES,
  actionPool,
  executorQueue,
  databaseFields,
  httpFields,
  localCommandFields,
  powerOperation,
  sshFields,
  winrmFields,
  type Action,
  type ActionOutput,
  type ExecutorActivities,
  type RunJobInput,
  type TargetRef,
} from '@opsc/contracts';
import { classifyActivityFailure } from './failure.js';
import type { JobState } from './job-state.js';

/** Seconds the activity may run past the step's own timeout, to stop the process and report. */
const CLEANUP_MARGIN_SECONDS = 30;
/**
 * A step or undo the executor could not even start (its records away: `RecordsUnavailable`, nothing
 * ran) is asked again after this pause, for as long as it takes: a database outage delays a job, it
 * never fails a step or skips an undo.
 */
const RECORDS_PAUSE = '30s';

/** One action to run on one target: a step, or the undo of one. */
export interface ActionRun {
  /** The step id, or `<id>.rollback` for an undo; results and run markers are keyed by it. */
  stepId: string;
  action: Action;
  timeoutSeconds: number;
  maxAttempts: number;
  /** A step run again (decide `retry`): which re-run; 0 or absent for its first run. */
  rerun?: number;
}

/** How a run ended, as the job records it. */
export interface Outcome {
  ok: boolean;
  output?: ActionOutput;
  /** `retried`: the failure of a retry, so an earlier attempt may have run (and changed the target). */
  error?: { type: ErrorType; message: string; retried?: true };
  durationMs: number;
}

const executorFor = (run: ActionRun, target: TargetRef, input: RunJobInput) =>
  proxyActivities<ExecutorActivities>({
    // The target's executor pool (fixed with the job) for an action on it; the default pool, which
    // keeps the old queue's name, for what runs on the executor itself (a local command or HTTP undo).
    taskQueue: executorQueue(actionPool(run.action.method, target), input.tenantId),
    startToCloseTimeout: `${run.timeoutSeconds + CLEANUP_MARGIN_SECONDS}s`,
    heartbeatTimeout: `${input.options.heartbeatTimeoutSeconds}s`,
    // A cancelled step is reported only once the executor has really stopped it, so nothing is
    // undone while it may still be changing the host.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      // A reboot or shutdown runs once, whatever the plan says: a retry could do it again.
      maximumAttempts: powerOperation(run.action) ? 1 : run.maxAttempts,
      initialInterval: '2s',
      backoffCoefficient: 2,
      maximumInterval: '1m',
      nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
    },
  });

const dispatch = (run: ActionRun, target: TargetRef, input: RunJobInput): Promise<ActionOutput> => {
  const executor = executorFor(run, target, input);
  const context = {
    jobId: input.jobId,
    stepId: run.stepId,
    target,
    timeoutSeconds: run.timeoutSeconds,
    ...(run.rerun && { rerun: run.rerun }),
  };
  const { action } = run;
  // The executor checks these fields against the job's plan with the same functions.
  switch (action.method) {
    case 'local-command':
      return executor.runLocalCommand({ ...context, tenantId: input.tenantId, ...localCommandFields(action) });
    case 'http':
      return executor.sendHttpRequest({ ...context, tenantId: input.tenantId, ...httpFields(action) });
    case 'ssh':
      return executor.runSshOperation({ ...context, ...sshFields(action) });
    case 'winrm':
      return executor.runWinrmOperation({ ...context, ...winrmFields(action) });
    case 'database':
      return executor.runDatabaseQuery({ ...context, ...databaseFields(action) });
    case 'timer':
      // A wait is the workflow's own timer (timer-step.ts); no executor runs it.
      throw new TypeError('a timer step has no activity');
  }
};

/** The step's own success criteria: a result that ran is not necessarily a success. */
const judge = (action: Action, output: ActionOutput): Outcome['error'] => {
  if (output.kind === 'command' && action.method !== 'http' && action.method !== 'timer') {
    const success = action.method === 'database' ? [0] : action.successExitCodes;
    if (output.exitCode !== null && success.includes(output.exitCode)) return undefined;
    const how = output.exitCode === null ? `killed by ${output.signal ?? 'a signal'}` : `exit code ${output.exitCode}`;
    // The last thing the command said on stderr is usually why (access denied, a wait that timed out).
    const why = output.stderr
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter(Boolean)
      .at(-1)
      ?.slice(0, 300);
    return { type: 'CommandFailed', message: `command ended with ${how}${why ? `: ${why}` : ''}` };
  }
  if (output.kind === 'http' && action.method === 'http') {
    const ok = action.expectStatus
      ? action.expectStatus.includes(output.status)
      : output.status >= 200 && output.status < 300;
    return ok ? undefined : { type: 'UnexpectedStatus', message: `HTTP ${output.status}` };
  }
  return { type: 'Internal', message: `output of kind ${output.kind} does not fit method ${action.method}` };
};

/** Runs one action on one target through the executor queue and judges the outcome; never throws for a failed run. */
export const runAction = async (
  run: ActionRun,
  target: TargetRef,
  input: RunJobInput,
  now: () => number,
): Promise<Outcome> => {
  const startedAt = now();
  try {
    const output = await dispatch(run, target, input);
    const error = judge(run.action, output);
    return { ok: !error, output, ...(error && { error }), durationMs: now() - startedAt };
  } catch (err) {
    return { ok: false, error: classifyActivityFailure(err), durationMs: now() - startedAt };
  }
};

/**
 * Runs an action; while the executor cannot start it for want of its records (nothing ran), it
 * waits and asks again. A cancellation while it waits ends it as cancelled (nothing ran).
 */
export const runWhenRecorded = async (
  run: ActionRun,
  target: TargetRef,
  input: RunJobInput,
  what: string,
  state: Pick<JobState, 'log'>,
): Promise<Outcome> => {
  const began = Date.now();
  for (let asked = 0; ; asked++) {
    const outcome = await runAction(run, target, input, Date.now);
    if (outcome.error?.type !== ErrorType.RecordsUnavailable)
      return asked === 0 ? outcome : { ...outcome, durationMs: Date.now() - began };
    if (asked === 0)
      state.log(
        new Date(),
        'warn',
        `${what} waits for the executor's database: ${outcome.error.message}`,
        run.stepId,
        target.name,
      );
    try {
      await sleep(RECORDS_PAUSE);
    } catch (err) {
      if (!isCancellation(err)) throw err;
      return {
        ok: false,
        error: {
          type: ErrorType.Cancelled,
          message: `cancelled while ${what} waited for the executor's database; nothing ran`,
        },
        durationMs: Date.now() - began,
      };
    }
  }
};

/** One log line that says how a run went on a target. */
export const describeOutcome = (outcome: Outcome): string => {
  const output = outcome.output;
  const took = output ? ` in ${Math.round(output.durationMs)} ms` : '';
  if (outcome.ok) {
    return output?.kind === 'http' ? `HTTP ${output.status}${took}` : `exit code ${output?.exitCode ?? 0}${took}`;
  }
  return `${outcome.error?.type ?? 'Failed'}: ${outcome.error?.message ?? 'unknown'}${took}`;
};
