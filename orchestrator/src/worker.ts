import type { Client } from '@temporalio/client';
import { Worker, type InjectedSinks, type NativeConnection } from '@temporalio/worker';
import type pg from 'pg';
import { createRequire } from 'node:module';
import { TaskQueue } from '@opsc/contracts';
import type { JobProgressSinks } from '@opsc/contracts/temporal';
import { createLogContextInterceptor } from '@opsc/telemetry';
import { createBookkeepingActivities } from './bookkeeping/index.js';
import type { JobDeps } from './jobs/deps.js';
import { createScheduleActivities } from './schedules/schedule-activities.js';
import type { OrchestratorMetrics } from './metrics/orchestrator-metrics.js';
import type { Tracing } from '@opsc/telemetry/tracing';
import { workflowCode } from './workflow-code.js';

const require = createRequire(import.meta.url);

const tracedWithLogContext = (options: {
  jobs: JobDeps;
  tracing?: Tracing;
  onProgress?: (jobId: string, json: string) => void;
  onProgressHeld?: (jobId: string) => void;
}) => {
  const traced = options.tracing?.enabled ? options.tracing.workerOptions(true) : {};
  const { onProgress, onProgressHeld } = options;
  return {
    ...traced,
    interceptors: {
      ...traced.interceptors,
      activity: [...(traced.interceptors?.activity ?? []), createLogContextInterceptor(options.jobs.log)],
      // Each job's progress pushed at the end of its activations (workflows/src/progress-push.ts).
      workflowModules: [
        ...(traced.interceptors?.workflowModules ?? []),
        require.resolve('@opsc/workflows/progress-push'),
      ],
    },
    sinks: {
      ...traced.sinks,
      ...({
        jobProgress: {
          changed: { fn: (info, json) => onProgress?.(info.workflowId, json), callDuringReplay: false },
          held: { fn: (info) => onProgressHeld?.(info.workflowId), callDuringReplay: false },
        },
      } satisfies InjectedSinks<Pick<JobProgressSinks, 'jobProgress'>>),
    },
  };
};

/** The worker's pollers, slots and sticky cache (the ORCHESTRATOR_* settings of env.ts); the SDK's defaults when absent. */
export interface OrchestratorWorkerTuning {
  workflowTaskPollers: number;
  maxConcurrentWorkflowTasks: number;
  maxCachedWorkflows: number;
  maxConcurrentActivities: number;
  activityPollers: number;
}

const tuned = (t: OrchestratorWorkerTuning | undefined) =>
  t && {
    maxConcurrentWorkflowTaskExecutions: t.maxConcurrentWorkflowTasks,
    maxConcurrentWorkflowTaskPolls: Math.min(t.workflowTaskPollers, t.maxConcurrentWorkflowTasks),
    maxCachedWorkflows: t.maxCachedWorkflows,
    maxConcurrentActivityTaskExecutions: t.maxConcurrentActivities,
    maxConcurrentActivityTaskPolls: Math.min(t.activityPollers, t.maxConcurrentActivities),
  };

/** The worker on the `orchestrator` queue: workflows, bookkeeping and schedule-start activities, no execution. */
export const createOrchestratorWorker = async (options: {
  connection: NativeConnection;
  namespace: string;
  pool: pg.Pool;
  /** Starts the notification workflows a job asks for (`startNotification`). */
  client: Client;
  /** What a schedule's action runs its template with (the job service's dependencies). */
  jobs: JobDeps;
  /** Counts finished jobs, steps, targets and undo actions as the bookkeeping records them. */
  metrics?: OrchestratorMetrics;
  /** Traces of the workflows and activities (docs/tracing.md); nothing is added when tracing is off. */
  tracing?: Tracing;
  /** Where the workflow bundle is kept between starts (`workflow-code.ts`); null: bundled at each start. */
  bundleCacheDir?: string | null;
  tuning?: OrchestratorWorkerTuning;
  /** A job's progress as its workflow pushes it (live event streams); must return at once. */
  onProgress?: (jobId: string, json: string) => void;
  /** A job's progress changed and its workflow holds the snapshot back (at most 4 a second); must return at once. */
  onProgressHeld?: (jobId: string) => void;
}) => {
  // Traced first (when on), so the lines an activity writes carry its trace id beside its workflow,
  // run, activity, attempt and job.
  const traced = tracedWithLogContext(options);
  const code = await workflowCode({
    cacheDir: options.bundleCacheDir ?? null,
    interceptorModules: traced.interceptors.workflowModules ?? [],
    log: options.jobs.log,
  });
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: TaskQueue.orchestrator,
    ...code,
    activities: {
      ...createBookkeepingActivities({ pool: options.pool, client: options.client, metrics: options.metrics }),
      ...createScheduleActivities(options.jobs),
    },
    ...tuned(options.tuning),
    ...traced,
  });
};
