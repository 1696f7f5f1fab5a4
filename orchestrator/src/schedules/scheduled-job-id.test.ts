import { describe, expect, it } from 'vitest';
import { scheduledJobId } from './schedule-activities.js';

describe('the job id of a scheduled action', () => {
  const action = 'schedule-6f1c2a4e-0b7d-4c55-9a43-1d2e3f405162-2026-12-02T18:00:00Z';

  it('is the same for every attempt of one action, and another for the next action', () => {
    expect(scheduledJobId(action)).toBe(scheduledJobId(action));
    expect(scheduledJobId(action)).not.toBe(scheduledJobId(action.replace('18:00', '18:05')));
  });

  it('is shaped like every job id (job-<uuid>), so the job routes take it', () => {
    expect(scheduledJobId(action)).toMatch(/^job-[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
