import { ErrorType, isFinalJobStatus, type JobStatus } from '@opsc/contracts';

/** How a job's workflow ended, as Temporal tells it; `NOT_FOUND` when Temporal has no such workflow. */
export interface WorkflowClosure {
  status: 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'TERMINATED' | 'TIMED_OUT' | 'NOT_FOUND';
  runId?: string;
  /** The termination's reason, or the failure's message. */
  reason?: string;
  /** Who terminated it (the CLI's or UI's identity). */
  identity?: string;
  /** The status a completed workflow returned. */
  result?: string;
}

export interface ClosureVerdict {
  status: Extract<JobStatus, 'completed' | 'failed' | 'cancelled' | 'rejected'>;
  error: { type: ErrorType; message: string };
}

/**
 * A reason or identity is typed by whoever closed the workflow: it reaches the job's record and the
 * API's answers, so it is kept to one short printable line.
 */
const quoted = (text: string | undefined): string | undefined => {
  const clean = text
    ?.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+/gu, ' ')
    .trim()
    .slice(0, 200);
  return clean ? JSON.stringify(clean) : undefined;
};

const UNRECORDED = 'before it recorded how the job ended; recorded by reconciliation';

/** The truth a job's record gets once its workflow is closed without having written it. */
export const closureVerdict = (closure: WorkflowClosure): ClosureVerdict => {
  const reason = quoted(closure.reason);
  const identity = quoted(closure.identity);
  const failed = (message: string): ClosureVerdict => ({
    status: 'failed',
    error: { type: ErrorType.WorkflowClosed, message },
  });
  switch (closure.status) {
    case 'TERMINATED':
      return failed(
        `its workflow was terminated in Temporal${reason ? ` (reason: ${reason}${identity ? `, by ${identity}` : ''})` : identity ? ` (by ${identity})` : ''} ${UNRECORDED}`,
      );
    case 'TIMED_OUT':
      return failed(`its workflow timed out in Temporal (run or execution timeout) ${UNRECORDED}`);
    case 'CANCELLED':
      return {
        status: 'cancelled',
        error: { type: ErrorType.WorkflowClosed, message: `its workflow was cancelled in Temporal ${UNRECORDED}` },
      };
    case 'FAILED':
      return failed(`its workflow failed${reason ? ` (${reason})` : ''} ${UNRECORDED}`);
    case 'COMPLETED': {
      const result =
        closure.result && isFinalJobStatus(closure.result) ? (closure.result as ClosureVerdict['status']) : undefined;
      const message = `its workflow completed${result ? ` as ${result}` : ' without a final status'} ${UNRECORDED}`;
      return result ? { status: result, error: { type: ErrorType.WorkflowClosed, message } } : failed(message);
    }
    case 'NOT_FOUND':
      return failed(
        'its workflow does not exist in Temporal (never started, or removed after its retention period); recorded by reconciliation',
      );
  }
};
