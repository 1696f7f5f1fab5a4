import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import './quiet-runtime.js';
import {
  ApplicationFailure,
  WorkflowUpdateFailedError,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import { planHash } from '@opsc/contracts/plan-hash';
import {
  Plan,
  TaskQueue,
  type Decision,
  type JobResult,
  type JobStatus,
  type PlanInput,
  type RunJobInput,
  type StepInput,
} from '@opsc/contracts';
import {
  RUN_JOB_WORKFLOW,
  SearchAttribute,
  approveUpdate,
  cancelUpdate,
  decideUpdate,
  pauseUpdate,
  rejectUpdate,
  resumeUpdate,
  type ControlAnswer,
} from '@opsc/contracts/temporal';
import { FakeWorld, waitFor, type ExecutorScript, type JobRecords } from './fakes.js';

// temporal.api.enums.v1.IndexedValueType of the search attribute types the platform uses.
const INDEXED_VALUE_TYPE: Record<string, number> = { KEYWORD: 2 };

const UPDATES = {
  approve: approveUpdate,
  reject: rejectUpdate,
  pause: pauseUpdate,
  resume: resumeUpdate,
  cancel: cancelUpdate,
  decide: decideUpdate,
} as const;

/** How many times a test server that was not up within the SDK's deadline is started again. */
const SERVER_STARTS = 4;

/**
 * The time-skipping test server. The SDK gives it a fixed 5 s to answer (not an option), which a busy
 * 2-core machine can miss while other files start theirs; a start that timed out is tried again, and
 * any other error, or the last timeout, is the test's.
 */
export const startTimeSkipping = async (path = inject('testServerPath')): Promise<TestWorkflowEnvironment> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await TestWorkflowEnvironment.createTimeSkipping({
        // Never a download: the launcher temporal/bin/ensure-test-server.sh installed.
        server: { executable: { type: 'existing-path', path } },
      });
    } catch (err) {
      if (attempt >= SERVER_STARTS || !/did not start within/.test((err as Error).message)) throw err;
      console.warn(`test server not up in the SDK's 5 s (start ${attempt} of ${SERVER_STARTS}); starting it again`);
    }
  }
};

/** One time-skipping test server and the real workflow bundle on the real queues, with fake activities. */
export class WorkflowEnv {
  readonly world = new FakeWorld();
  private workers: Promise<void>[] = [];
  private stops: (() => void)[] = [];

  private constructor(readonly env: TestWorkflowEnvironment) {}

  static async start(): Promise<WorkflowEnv> {
    const env = await startTimeSkipping();
    // The platform's search attributes, as `ensureNamespace` registers them on a real server.
    await env.connection.operatorService.addSearchAttributes({
      namespace: env.namespace ?? 'default',
      searchAttributes: Object.fromEntries(
        Object.values(SearchAttribute).map((key) => [key.name, INDEXED_VALUE_TYPE[key.type]!]),
      ),
    });
    const self = new WorkflowEnv(env);
    await self.startWorkers();
    return self;
  }

  private async startWorkers(): Promise<void> {
    const { nativeConnection: connection, namespace } = this.env;
    const orchestrator = await Worker.create({
      connection,
      namespace,
      taskQueue: TaskQueue.orchestrator,
      workflowBundle: { codePath: inject('workflowBundlePath') },
      activities: this.world.orchestratorActivities(),
    });
    const executor = await Worker.create({
      connection,
      namespace,
      taskQueue: TaskQueue.executor,
      activities: this.world.executorActivities(),
    });
    for (const w of [orchestrator, executor]) {
      this.workers.push(w.run());
      this.stops.push(() => w.shutdown());
    }
  }

  async stop(): Promise<void> {
    for (const stop of this.stops) stop();
    await Promise.allSettled(this.workers);
    await this.env.teardown();
  }

  /** Starts a job as the API would (same input shape, search attributes), with a fake executor script. */
  async startJob(spec: JobSpec): Promise<TestJob> {
    const jobId = `job-${randomUUID()}`;
    const plan = Plan.parse(spec.plan);
    const targets = (spec.targets ?? ['web-1']).map((name) => ({ id: `t-${name}`, name }));
    const stepTargets = Object.fromEntries(
      plan.steps.filter((s) => s.targets).map((s) => [s.id, targets.map((_, i) => i)]),
    );
    const input: RunJobInput = {
      jobId,
      tenantId: 'tenant-1',
      plan,
      planHash: planHash(plan),
      risk: 'change',
      targetGroup: 'web',
      targets,
      stepTargets,
      requestedBy: 'alice',
      approval: { required: false, reasons: [], fourEyes: false, timeoutSeconds: 86_400, ...spec.approval },
      options: { heartbeatTimeoutSeconds: 30, historyEventLimit: 10_000, ...spec.options },
      ...(spec.carried !== undefined && { carried: spec.carried }),
      ...(spec.mode && { mode: spec.mode }),
    };
    if (spec.script) this.world.script(jobId, spec.script);
    const handle = await this.env.client.workflow.start(RUN_JOB_WORKFLOW, {
      workflowId: jobId,
      taskQueue: TaskQueue.orchestrator,
      args: [input],
      typedSearchAttributes: [{ key: SearchAttribute.status, value: 'queued' }],
    });
    return new TestJob(
      this,
      input,
      handle as WorkflowHandleWithFirstExecutionRunId<(input: RunJobInput) => Promise<JobResult>>,
    );
  }
}

export interface JobSpec {
  plan: PlanInput;
  /** Target names; every step with targets acts on all of them. */
  targets?: string[];
  approval?: Partial<RunJobInput['approval']>;
  options?: Partial<RunJobInput['options']>;
  script?: ExecutorScript;
  /** Handed-over state, as only a continue-as-new may pass it. */
  carried?: unknown;
  /** `check`: the job runs its steps' checks only. */
  mode?: 'check';
}

/** A started job: its handle, what it recorded, and decisions sent the way the API sends them. */
export class TestJob {
  readonly records: JobRecords;
  constructor(
    private readonly owner: WorkflowEnv,
    readonly input: RunJobInput,
    readonly handle: WorkflowHandleWithFirstExecutionRunId<(input: RunJobInput) => Promise<JobResult>>,
  ) {
    this.records = owner.world.job(input.jobId);
  }

  /** Records the decision (as the API does) and sends its update; resolves with the answer or rejects with the refusal. */
  decide(
    action: Decision['action'],
    who: { by: string; role: Decision['role'] },
    extra: Partial<Pick<Decision, 'mode' | 'choice' | 'planHash' | 'retry'>> = {},
  ): Promise<ControlAnswer> {
    const decisionId = this.owner.world.decision({
      jobId: this.input.jobId,
      tenantId: this.input.tenantId,
      action,
      planHash: this.input.planHash,
      ...who,
      ...extra,
    });
    return this.handle.executeUpdate(UPDATES[action], { args: [{ decisionId }] });
  }

  /** The job's result; the test server skips time while it waits (timers of hours pass at once). */
  result(): Promise<JobResult> {
    return this.handle.result();
  }

  /** The type of the ApplicationFailure an update was refused with, and its message. */
  static async refusal(update: Promise<unknown>): Promise<{ type: string | undefined; message: string }> {
    const err = await update.then(
      () => {
        throw new Error('the update was accepted');
      },
      (e: unknown) => e,
    );
    if (!(err instanceof WorkflowUpdateFailedError) || !(err.cause instanceof ApplicationFailure)) throw err;
    return { type: err.cause.type ?? undefined, message: err.cause.message };
  }

  /** Resolves once the workflow has recorded `status` (it is then waiting in that state). */
  reached(status: JobStatus): Promise<void> {
    return waitFor(() => this.records.statuses.some((s) => s.status === status), `status ${status}`);
  }

  eventActions(): string[] {
    return this.records.events.map((e) => e.action);
  }
}

/** A plan of SSH `run` steps over the job's targets, each with an undo. */
export const sshPlan = (steps: string[], policies: PlanInput['policies'] = {}): PlanInput => ({
  name: 'workflow test',
  steps: steps.map((id): StepInput => ({
    id,
    name: `Step ${id}`,
    targets: { group: 'web' },
    action: { method: 'ssh', operation: { op: 'run', argv: ['change', id] } },
    rollback: {
      tool: 'undo-change',
      name: `Undo ${id}`,
      action: { method: 'ssh', operation: { op: 'run', argv: ['undo', id] } },
    },
  })),
  policies,
});
