import { proxySinks, workflowInfo, type WorkflowInterceptors } from '@temporalio/workflow';
import type { JobProgress } from '@opsc/contracts';
import type { JobProgressSinks } from '@opsc/contracts/temporal';

/** Where a job's run leaves its snapshot function for the interceptor: a global, so one per workflow. */
const KEY = Symbol.for('opsc.progressPush');
type Holder = { [KEY]?: () => JobProgress };

const sinks = proxySinks<JobProgressSinks>();

/**
 * From now on, every activation that can change the job (anything but queries alone) ends by pushing
 * its progress to the worker's main thread (`JobProgressSinks`). Called once the run is confirmed as
 * the job's, like the `progress` query's handler. The push adds no command and no history event.
 */
export const pushProgress = (snapshot: () => JobProgress): void => {
  (globalThis as Holder)[KEY] = snapshot;
};

/** Registered with the worker's `interceptors.workflowModules`: the push at each activation's end. */
export const interceptors = (): WorkflowInterceptors => {
  let changes = false;
  return {
    internals: [
      {
        activate(input, next) {
          if (input.activation.jobs?.some((job) => !job.queryWorkflow)) changes = true;
          next(input);
        },
        concludeActivation(input, next) {
          const snapshot = (globalThis as Holder)[KEY];
          // The sink is not called on replay: no snapshot is built for it either.
          if (changes && snapshot && !workflowInfo().unsafe.isReplaying)
            sinks.jobProgress.changed(JSON.stringify(snapshot()));
          changes = false;
          return next(input);
        },
      },
    ],
  };
};
