import { Context } from '@temporalio/activity';
import type {
  CommandOutput,
  ConfirmDecisionResult,
  Decision,
  ExecutorActivities,
  JobEvent,
  OrchestratorActivities,
  RecordJobStatusInput,
  RefuseDecisionInput,
  RunSshOperationInput,
  StepVerdict,
} from '@opsc/contracts';

/**
 * Fakes of the two activity sets, registered under the real names (the contracts' interfaces are
 * checked with `satisfies`), so the real workflow runs against them on the real task queues. What
 * the workflow asked of them is kept per job for the tests to read.
 */

/** What one job's workflow wrote through the orchestrator's bookkeeping activities. */
export interface JobRecords {
  /** `confirmJob` calls: a job's first run checks its start, a continued run does not. */
  startChecks: number;
  statuses: RecordJobStatusInput[];
  events: JobEvent[];
  verdicts: StepVerdict[];
  refused: RefuseDecisionInput[];
  /** Every executor call, in order: `<stepId>@<target name>`. */
  calls: string[];
  /** Notifications started, as `<event>-<n>`, each once. */
  notifications: string[];
  /** Awaited by `confirmDecision` before it answers: lets a test hold a decision in flight. */
  beforeConfirm?: () => Promise<void>;
}

/** How the fake executor answers one call; return a command's output, or throw as the real one would. */
export type ExecutorScript = (
  call: { stepId: string; target: string; attempt: number },
  input: RunSshOperationInput,
) => Promise<CommandOutput>;

export const commandOutput = (exitCode: number, stdout = ''): CommandOutput => ({
  kind: 'command',
  exitCode,
  signal: null,
  stdout,
  stderr: exitCode === 0 ? '' : 'it failed',
  stdoutTruncated: false,
  stderrTruncated: false,
  durationMs: 5,
});

/** Waits until the test releases it or the workflow cancels the activity, heartbeating so the cancel arrives. */
export const heldUntil = async (released: Promise<void>): Promise<CommandOutput> => {
  const ctx = Context.current();
  const beat = setInterval(() => ctx.heartbeat(), 50);
  try {
    await Promise.race([released, ctx.cancelled]);
    return commandOutput(0);
  } finally {
    clearInterval(beat);
  }
};

/** A promise and its resolver, for a test to release a held activity. */
export const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

/** Polls until `check` holds (the workflow's writes arrive through activities, asynchronously). */
export const waitFor = async (check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

export class FakeWorld {
  private readonly records = new Map<string, JobRecords>();
  private readonly scripts = new Map<string, ExecutorScript>();
  private readonly decisions = new Map<string, Decision & { used: boolean }>();
  private decisionCount = 0;

  job(jobId: string): JobRecords {
    let r = this.records.get(jobId);
    if (!r) {
      r = { startChecks: 0, statuses: [], events: [], verdicts: [], refused: [], calls: [], notifications: [] };
      this.records.set(jobId, r);
    }
    return r;
  }

  script(jobId: string, script: ExecutorScript): void {
    this.scripts.set(jobId, script);
  }

  /** Records a decision as the API would (`job_decisions`), returning its id for the update. */
  decision(
    d: Omit<Decision, 'id' | 'at' | 'comment' | 'mode' | 'choice' | 'sourceIp'> &
      Partial<Pick<Decision, 'mode' | 'choice' | 'comment' | 'retry'>>,
  ): string {
    const id = `decision-${++this.decisionCount}`;
    this.decisions.set(id, {
      comment: null,
      mode: null,
      choice: null,
      sourceIp: null,
      ...d,
      id,
      at: new Date().toISOString(),
      used: false,
    });
    return id;
  }

  orchestratorActivities() {
    return {
      confirmJob: async (input) => {
        this.job(input.jobId).startChecks++;
      },
      recordJobStatus: async (input) => {
        this.job(input.jobId).statuses.push(input);
      },
      recordStepResults: async (input) => {
        this.job(input.jobId).verdicts.push(...input.verdicts);
      },
      recordJobEvent: async (input) => {
        const events = this.job(input.jobId).events;
        if (!events.some((e) => e.key === input.key)) events.push(input);
      },
      refuseDecision: async (input) => {
        const d = this.decisions.get(input.decisionId);
        if (d) this.job(d.jobId).refused.push(input);
      },
      confirmDecision: async (input): Promise<ConfirmDecisionResult> => {
        // As the real one: the decision must be this workflow's job's, for this action, and unused.
        const jobId = Context.current().info.workflowExecution?.workflowId;
        if (jobId) await this.records.get(jobId)?.beforeConfirm?.();
        const d = this.decisions.get(input.decisionId);
        if (!d || d.jobId !== jobId || d.action !== input.action || d.used)
          return { confirmed: false, forged: true, reason: 'no such decision' };
        d.used = true;
        const { used: _used, ...decision } = d;
        return { confirmed: true, decision };
      },
      estimateSteps: async (input) =>
        input.steps.map((s) => ({ stepId: s.stepId, seconds: 1, tailSeconds: 1, from: 'tool' as const, samples: 0 })),
      notificationChannels: async () => ['channel-1'],
      // The real one starts a notifyJob workflow (exercised by tests/integration/notifications.test.ts).
      startNotification: async (input) => {
        const list = this.job(input.jobId).notifications;
        if (!list.includes(`${input.event}-${input.n}`)) list.push(`${input.event}-${input.n}`);
      },
    } satisfies OrchestratorActivities;
  }

  executorActivities() {
    const run = async (input: RunSshOperationInput): Promise<CommandOutput> => {
      // A re-run (decide retry) shows as `<step>#<n>@<target>`.
      this.job(input.jobId).calls.push(`${input.stepId}${input.rerun ? `#${input.rerun}` : ''}@${input.target.name}`);
      const script = this.scripts.get(input.jobId);
      const call = { stepId: input.stepId, target: input.target.name, attempt: Context.current().info.attempt };
      return script ? script(call, input) : commandOutput(0);
    };
    return {
      runSshOperation: run,
      runLocalCommand: (input) => run({ ...input, operation: { op: 'run', argv: [input.command] }, become: false }),
      runWinrmOperation: (input) => run({ ...input, operation: { op: 'run', argv: ['winrm'] }, become: false }),
      runDatabaseQuery: (input) => run({ ...input, operation: { op: 'run', argv: ['sql'] }, become: false }),
      sendHttpRequest: async () => {
        throw new Error('the workflow tests send no HTTP requests');
      },
      deliverNotification: async () => {
        throw new Error('the workflow tests deliver no notifications');
      },
    } satisfies ExecutorActivities;
  }
}
