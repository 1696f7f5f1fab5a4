import { condition } from '@temporalio/workflow';
import type { RunJobInput } from '@opsc/contracts';
import type { JobState } from './job-state.js';
import type { RecordsQueue } from './records-queue.js';
import { notify } from './notify.js';

/**
 * The approval phase: a plan that needs no approval runs at once; one that does waits, on record,
 * for an answer, a cancel or its deadline (a timeout rejects it). It leaves the job running or done.
 */
export async function approvalGate(input: RunJobInput, state: JobState, queue: RecordsQueue): Promise<void> {
  const { data } = state;
  const { approval } = data;
  if (!approval.required) {
    data.phase = 'running';
    return;
  }
  if (data.status !== 'awaiting_approval') {
    state.log(
      new Date(),
      'info',
      `Waiting for approval: ${input.approval.reasons.join('; ') || 'the plan asks for it'}`,
    );
    await queue.setStatus('awaiting_approval');
    await notify(input.jobId, 'approval_needed', 1, (m) => state.log(new Date(), 'warn', m));
  }
  const waitMs = Math.max(0, Date.parse(approval.deadline ?? '') - Date.now());
  const answered = await condition(() => approval.status !== 'pending' || data.cancel !== null, waitMs);
  if (!answered) {
    approval.status = 'timed_out';
    state.log(new Date(), 'warn', `Nobody approved within ${input.approval.timeoutSeconds} s: rejected`);
    await queue.event('approval-timeout', { by: 'workflow' });
  }
  data.phase = approval.status === 'approved' && !data.cancel ? 'running' : 'done';
}
