import { describe, expect, it } from 'vitest';
import { JobOrigin, originKeyword, readOrigin } from './job-origin.js';

describe('job origin', () => {
  it('gives Temporal one keyword per origin', () => {
    expect(originKeyword({ kind: 'manual' })).toBe('manual');
    expect(originKeyword({ kind: 'retry', jobId: 'job-1' })).toBe('retry:job-1');
    expect(originKeyword({ kind: 'schedule', scheduleId: 'nightly', templateId: 't1', version: 2 })).toBe(
      'schedule:nightly',
    );
    expect(originKeyword({ kind: 'trigger', triggerId: 'am', templateId: 't1', version: 1 })).toBe('trigger:am');
  });

  it('refuses a kind it does not know and fields a kind does not have', () => {
    expect(JobOrigin.safeParse({ kind: 'cron' }).success).toBe(false);
    expect(JobOrigin.safeParse({ kind: 'manual', by: 'someone' }).success).toBe(false);
    expect(JobOrigin.safeParse({ kind: 'template', templateId: 't1', version: 0 }).success).toBe(false);
  });

  it('reads a stored origin it does not understand as manual', () => {
    expect(readOrigin(null)).toEqual({ kind: 'manual' });
    expect(readOrigin({ kind: 'retry', jobId: 'job-9' })).toEqual({ kind: 'retry', jobId: 'job-9' });
    expect(readOrigin({ kind: 'retry' })).toEqual({ kind: 'manual' });
  });
});
