import { proxySinks, workflowInfo, type WorkflowInterceptors } from '@temporalio/workflow';
import type { JobProgress } from '@opsc/contracts';
import type { JobProgressSinks } from '@opsc/contracts/temporal';

/** What the push reads of the job's state: the snapshot, and the fields whose change is sent at once. */
export interface PushedJob {
  snapshot(now: Date): JobProgress;
  readonly data: {
    status: string;
    stepIndex: number;
    paused: boolean;
    cancel: unknown;
    approval: { status: string };
    decision: { status: string } | null;
    targetStates: readonly unknown[];
    steps: readonly unknown[];
  };
}

/** Where a job's run leaves its state for the interceptor: a global, so one per workflow. */
const KEY = Symbol.for('opsc.progressPush');
type Holder = { [KEY]?: PushedJob };

/**
 * A large job's snapshot reads every cell (about 1 ms at 1,000 targets x 7 steps), so past
 * `THROTTLED_CELLS` cells the workflow pushes at most one per this many ms of its own time; the feed
 * sends at most one event per 200 ms anyway. A change of status, step, pause, cancel, approval or
 * decision is pushed at once. A smaller job pushes at every activation that can change it.
 */
export const PUSH_EVERY_MS = 250;
export const THROTTLED_CELLS = 2_000;

/** Whether an activation that changed the job pushes its snapshot now, or holds it back. */
export const pushNow = (p: { cells: number; marks: string; pushedMarks: string; now: number; pushedAt: number }) =>
  p.cells < THROTTLED_CELLS || p.marks !== p.pushedMarks || p.now - p.pushedAt >= PUSH_EVERY_MS;

const milestones = ({ data }: PushedJob): string =>
  [data.status, data.stepIndex, data.paused, data.cancel !== null, data.approval.status, data.decision?.status].join(
    '|',
  );

const sinks = proxySinks<JobProgressSinks>();

/**
 * From now on, every activation that can change the job (anything but queries alone) ends by pushing
 * its progress to the worker's main thread (`JobProgressSinks`). Called once the run is confirmed as
 * the job's, like the `progress` query's handler. The push adds no command and no history event.
 */
export const pushProgress = (job: PushedJob): void => {
  (globalThis as Holder)[KEY] = job;
};

/** What the push remembers between activations of one workflow. */
export interface PushMemory {
  pushedAt: number;
  pushedMilestones: string;
  held: boolean;
}

/** Where a push goes: the worker's sink (`JobProgressSinks`), or a test's. */
export interface PushSink {
  changed(json: string): void;
  held(): void;
}

/**
 * The end of an activation that changed the job: its snapshot pushed now, or held back. Never
 * throws: the push is an aid to live streams, and a throw here would fail the workflow task, and so
 * every later one, stalling the job itself; a snapshot that cannot be built is skipped (the
 * `progress` query answers it, or says why not).
 */
export const pushAtActivationEnd = (job: PushedJob, memory: PushMemory, now: number, sink: PushSink): void => {
  try {
    const marks = milestones(job);
    const cells = job.data.targetStates.length * job.data.steps.length;
    if (pushNow({ cells, marks, pushedMarks: memory.pushedMilestones, now, pushedAt: memory.pushedAt })) {
      sink.changed(JSON.stringify(job.snapshot(new Date(now))));
      memory.pushedAt = now;
      memory.pushedMilestones = marks;
      memory.held = false;
    } else if (!memory.held) {
      // A change waits for the next push; the feed asks for it if none comes soon.
      sink.held();
      memory.held = true;
    }
  } catch {
    // Nothing pushed; the feed's progress query stands in.
  }
};

/** Registered with the worker's `interceptors.workflowModules`: the push at each activation's end. */
export const interceptors = (): WorkflowInterceptors => {
  let changes = false;
  const memory: PushMemory = { pushedAt: Number.NEGATIVE_INFINITY, pushedMilestones: '', held: false };
  return {
    internals: [
      {
        activate(input, next) {
          if (input.activation.jobs?.some((job) => !job.queryWorkflow)) changes = true;
          next(input);
        },
        concludeActivation(input, next) {
          const job = (globalThis as Holder)[KEY];
          // The sink is not called on replay: no snapshot is built for it either. Workflow time:
          // the activation's, the same for every push of one activation.
          if (changes && job && !workflowInfo().unsafe.isReplaying)
            pushAtActivationEnd(job, memory, Date.now(), sinks.jobProgress);
          changes = false;
          return next(input);
        },
      },
    ],
  };
};
