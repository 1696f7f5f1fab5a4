import { ActivityFailure, ApplicationFailure, RetryState, TimeoutFailure, TimeoutType } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { classifyActivityFailure } from './failure.js';

const failedWith = (cause: Error) =>
  new ActivityFailure('activity failed', 'runSshOperation', '1', RetryState.NON_RETRYABLE_FAILURE, 'executor', cause);

describe('classifyActivityFailure', () => {
  it('says when a failure is a retry, so a refusal after a lost attempt is not read as "nothing ran"', () => {
    const first = ApplicationFailure.nonRetryable('authentication failed', 'AuthFailed');
    expect(classifyActivityFailure(failedWith(first))).toEqual({
      type: 'AuthFailed',
      message: 'authentication failed',
    });
    const retry = ApplicationFailure.create({
      message: 'authentication failed',
      type: 'AuthFailed',
      nonRetryable: true,
      details: [{ attempt: 2 }],
    });
    expect(classifyActivityFailure(failedWith(retry))).toEqual({
      type: 'AuthFailed',
      message: 'authentication failed',
      retried: true,
    });
  });

  it('keeps a timeout and an unknown failure type apart from the known ones', () => {
    expect(
      classifyActivityFailure(failedWith(new TimeoutFailure('heartbeat', undefined, TimeoutType.HEARTBEAT))).type,
    ).toBe('Timeout');
    expect(classifyActivityFailure(failedWith(ApplicationFailure.retryable('boom', 'SomethingElse')))).toEqual({
      type: 'Internal',
      message: 'boom',
    });
  });
});
