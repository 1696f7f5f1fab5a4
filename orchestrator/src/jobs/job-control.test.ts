import { describe, expect, it } from 'vitest';
import { ApplicationFailure, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { Conflict, DomainError, Unavailable } from '../errors.js';
import { updateFailure } from './job-control.js';

describe("a job's refusal of a decision", () => {
  it("passes on the workflow's own reason and type", () => {
    const refused = updateFailure(
      new WorkflowUpdateFailedError(
        'update failed',
        ApplicationFailure.nonRetryable('the requester may not approve their own job', 'Forbidden'),
      ),
    );
    expect(refused).toBeInstanceOf(DomainError);
    expect(refused).toMatchObject({ type: 'Forbidden', message: 'the requester may not approve their own job' });
  });

  it('calls a reason of an unknown type a conflict', () => {
    expect(
      updateFailure(
        new WorkflowUpdateFailedError('update failed', ApplicationFailure.nonRetryable('not now', 'SomethingElse')),
      ),
    ).toMatchObject({ type: 'Conflict', message: 'not now' });
  });

  it('says a closed job has finished', () => {
    const gone = updateFailure(new WorkflowNotFoundError('not found', 'job-x', undefined));
    expect(gone).toBeInstanceOf(Conflict);
    expect(gone.message).toBe('the job has finished');
    expect(updateFailure(new Error('workflow execution already completed'))).toMatchObject({
      type: 'Conflict',
      message: 'the job has finished',
    });
  });

  it('answers unavailable when the workflow did not take the request', () => {
    const late = updateFailure(new Error('update took longer than 15000 ms'));
    expect(late).toBeInstanceOf(Unavailable);
    expect(late.message).toBe('the job did not take the request in time (is an orchestrator worker running?)');
    expect(updateFailure(new Error('connection refused'))).toMatchObject({
      type: 'Unavailable',
      message: 'the job could not take the request: connection refused',
    });
  });
});
