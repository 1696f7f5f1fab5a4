import type { CarriedJobState, Plan, RunJobInput } from '@opsc/contracts';
import type { JobLayout } from './job-layout.js';
import { JobState } from './job-state.js';
import { carriedUndo } from './saga.js';

/**
 * The state a run starts from: what a continued run was handed, or a first run's (the approval it
 * waits for, where a retry job's targets start, the undo of what they carry, check mode's grid).
 */
export const openJobState = (
  input: RunJobInput,
  plan: Plan,
  layout: JobLayout,
  carried: CarriedJobState | undefined,
  check: boolean,
): JobState => {
  const { targets, stepTargets, executorIndex } = layout;
  const now = new Date();
  const { approval, resume } = input;
  const state = new JobState(
    input.jobId,
    plan,
    targets.map((t) => t.name),
    stepTargets,
    executorIndex,
    carried ?? {
      now,
      ...(resume && { starts: targets.map((t) => resume.targets[t.id]?.start ?? 0) }),
      approval: {
        required: approval.required,
        status: approval.required ? 'pending' : 'not_required',
        planHash: input.planHash,
        requestedBy: input.requestedBy,
        fourEyes: approval.fourEyes,
        deadline: approval.required ? new Date(now.getTime() + approval.timeoutSeconds * 1000).toISOString() : null,
      },
    },
    resume && { jobId: resume.retryOf, rootJobId: resume.rootJobId },
  );
  // A retry job starts with the undo of what its targets carry (a continued run was handed its stacks).
  if (!carried && resume) Object.assign(state.data.undo, carriedUndo(plan, resume, targets));
  if (check) state.data.checks ??= stepTargets.map(() => ' '.repeat(targets.length));
  return state;
};
