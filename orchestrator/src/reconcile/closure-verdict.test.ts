import { describe, expect, it } from 'vitest';
import { closureVerdict } from './closure-verdict.js';
import { jitteredDelayMs } from './start-reconciler.js';

describe('the verdict reconciliation records for a closed workflow', () => {
  it('names how Temporal closed it, with the reason and who gave it', () => {
    expect(closureVerdict({ status: 'TERMINATED', reason: 'stuck', identity: 'ops@host' })).toEqual({
      status: 'failed',
      error: {
        type: 'WorkflowClosed',
        message:
          'its workflow was terminated in Temporal (reason: "stuck", by "ops@host") before it recorded how the job ended; recorded by reconciliation',
      },
    });
    expect(closureVerdict({ status: 'TERMINATED' }).error.message).toBe(
      'its workflow was terminated in Temporal before it recorded how the job ended; recorded by reconciliation',
    );
    expect(closureVerdict({ status: 'TIMED_OUT' })).toMatchObject({
      status: 'failed',
      error: { message: expect.stringMatching(/^its workflow timed out in Temporal/) as unknown },
    });
    expect(closureVerdict({ status: 'CANCELLED' })).toMatchObject({
      status: 'cancelled',
      error: { type: 'WorkflowClosed' },
    });
    expect(closureVerdict({ status: 'FAILED', reason: 'boom' }).error.message).toMatch(
      /^its workflow failed \("boom"\)/,
    );
    expect(closureVerdict({ status: 'NOT_FOUND' }).error.message).toMatch(/^its workflow does not exist in Temporal/);
  });

  it('keeps the final status a completed workflow returned, and fails one that returned none', () => {
    expect(closureVerdict({ status: 'COMPLETED', result: 'rejected' }).status).toBe('rejected');
    expect(closureVerdict({ status: 'COMPLETED', result: 'running' }).status).toBe('failed');
    expect(closureVerdict({ status: 'COMPLETED' }).status).toBe('failed');
  });

  it('keeps a reason typed by whoever closed it to one short printable line', () => {
    const message = closureVerdict({ status: 'TERMINATED', reason: `line one\nline two\u202e\u0007${'x'.repeat(500)}` })
      .error.message;
    expect(message).not.toMatch(/[\n\u202e\u0007]/);
    expect(message.length).toBeLessThan(400);
    expect(message).toContain('"line one line two xxx');
  });
});

describe('the wait between reconciliation passes', () => {
  it('is the interval give or take a quarter', () => {
    expect(jitteredDelayMs(60, () => 0)).toBe(45_000);
    expect(jitteredDelayMs(60, () => 0.5)).toBe(60_000);
    expect(jitteredDelayMs(60, () => 0.999_999)).toBe(75_000);
  });
});
