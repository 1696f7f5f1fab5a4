import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { WorkflowClosure } from './closure-verdict.js';

const CLOSED = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TERMINATED', 'TIMED_OUT']);

/**
 * How the job's workflow (its id is the job's id) ended, or undefined while it runs. A reset or a
 * continue-as-new starts a new run under the same id: the latest run is the one that counts.
 */
export const workflowClosure = async (
  client: Client,
  namespace: string,
  jobId: string,
): Promise<WorkflowClosure | undefined> => {
  let description;
  try {
    description = await client.workflow.getHandle(jobId).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { status: 'NOT_FOUND' };
    throw err;
  }
  const status = description.status.name;
  if (!CLOSED.has(status)) return undefined;
  const runId = description.runId;
  // The close event says why: a termination's reason and identity, a failure's message.
  const history = await client.workflowService.getWorkflowExecutionHistoryReverse({
    namespace,
    execution: { workflowId: jobId, runId },
    maximumPageSize: 1,
  });
  const last = history.history?.events?.[0];
  switch (status) {
    case 'TERMINATED': {
      const attrs = last?.workflowExecutionTerminatedEventAttributes;
      return {
        status,
        runId,
        ...(attrs?.reason && { reason: attrs.reason }),
        ...(attrs?.identity && { identity: attrs.identity }),
      };
    }
    case 'FAILED': {
      const message = last?.workflowExecutionFailedEventAttributes?.failure?.message;
      return { status, runId, ...(message && { reason: message }) };
    }
    case 'COMPLETED': {
      const result = await client.workflow
        .getHandle(jobId, runId, { followRuns: false })
        .result()
        .then((r: unknown) =>
          r && typeof r === 'object' && 'status' in r && typeof r.status === 'string' ? r.status : undefined,
        )
        .catch(() => undefined);
      return { status, runId, ...(result && { result }) };
    }
    default:
      return { status: status as WorkflowClosure['status'], runId };
  }
};
