import { describe, expect, it } from 'vitest';
import { issuesByField } from './api';
import { duration, roughly } from './format';

describe('issuesByField', () => {
  it('keys the API issues by the editor field, without the body prefix, joining two on one field', () => {
    const map = issuesByField([
      { path: 'plan.steps.3.params.service', message: 'must match the pattern' },
      { path: 'plan.steps.3.params.service', message: 'no shell metacharacters' },
      { path: 'draft.policies.maxParallel', message: 'must be at least 1' },
      { path: 'name', message: 'is required' },
    ]);
    expect(Object.fromEntries(map)).toEqual({
      'steps.3.params.service': 'must match the pattern; no shell metacharacters',
      'policies.maxParallel': 'must be at least 1',
      name: 'is required',
    });
    expect(issuesByField(undefined).size).toBe(0);
  });
});

describe('durations as an engineer reads them', () => {
  it.each([
    [null, '—'],
    [0.4, '0s'],
    [59, '59s'],
    [61, '1m 01s'],
    [3_725, '1h 02m'],
  ])('%s seconds is %s', (seconds, text) => expect(duration(seconds)).toBe(text));

  it('rounds an ETA the way the planner says it', () => {
    expect(roughly(58)).toBe('about 58 seconds');
    expect(roughly(600)).toBe('about 10 minutes');
    expect(roughly(null)).toBe('unknown');
  });
});
