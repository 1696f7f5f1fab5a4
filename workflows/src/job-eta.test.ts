import { describe, expect, it } from 'vitest';
import { Plan, estimateRemainingSeconds, type StepEstimate } from '@opsc/contracts';
import { estimateFromHistory } from './job-eta.js';

describe('the ETA of a wait', () => {
  it('asks for history under the wait and its length, falls back on its seconds, and adds them to the ETA', async () => {
    const plan = Plan.parse({
      name: 'p',
      steps: [
        {
          id: 'stop',
          name: 'stop',
          targets: { group: 'web' },
          action: { method: 'ssh', operation: { op: 'service', action: 'stop', name: 'nginx' } },
          tool: { name: 'service-stop', risk: 'change', params: {}, typicalDurationSeconds: 5 },
        },
        { id: 'pause', name: 'Wait 30 seconds', action: { method: 'timer', seconds: 30 } },
      ],
    });
    const asked: { toolKey: string; fallbackSeconds: number | null }[] = [];
    const expected: (number | null)[] = [];
    await estimateFromHistory(
      async ({ steps }) => {
        asked.push(...steps.map(({ toolKey, fallbackSeconds }) => ({ toolKey, fallbackSeconds })));
        return steps.map((s): StepEstimate => ({
          stepId: s.stepId,
          seconds: s.fallbackSeconds,
          tailSeconds: s.fallbackSeconds,
          from: 'tool',
          samples: 0,
        }));
      },
      'job',
      plan,
      {
        data: { etaSetAt: null },
        setExpected: (i, seconds) => (expected[i] = seconds),
        estimate: () => {
          const seconds = estimateRemainingSeconds(
            expected.map((s) => ({ expectedSeconds: s, tailSeconds: s, pending: 1, runningElapsed: [] })),
            25,
            0,
          );
          return seconds === null ? null : { seconds, range: null };
        },
        log: () => undefined,
      },
    );
    expect(asked).toEqual([
      { toolKey: 'service-stop', fallbackSeconds: 5 },
      { toolKey: 'timer:30', fallbackSeconds: 30 },
    ]);
    expect(expected).toEqual([5, 30]);
  });
});
