import { describe, expect, it } from 'vitest';
import type { StepEstimate } from './activities.js';
import type { PlatformTiming } from './eta.js';
import { Plan } from './plan.js';
import { estimateRequests, planEta } from './plan-eta.js';

const step = (id: string, typicalDurationSeconds?: number) => ({
  id,
  name: id,
  targets: { group: 'web' },
  action: { method: 'ssh', operation: { op: 'run', argv: ['sleep', '1'] } },
  ...(typicalDurationSeconds && { tool: { name: `tool-${id}`, risk: 'change', params: {}, typicalDurationSeconds } }),
});
const plan = Plan.parse({ name: 'p', steps: [step('a', 10), step('b')], policies: { maxParallel: 2 } });
const learned: PlatformTiming = {
  perTargetSeconds: 0.05,
  perWaveSeconds: 0.2,
  stepGapSeconds: 1,
  slots: null,
  samples: 5,
};

describe('the ETA of a plan before it runs', () => {
  it("asks for each step's tool with its typical duration to fall back on", () => {
    expect(estimateRequests(plan)).toEqual([
      { stepId: 'a', toolKey: 'tool-a', fallbackSeconds: 10 },
      { stepId: 'b', toolKey: 'ssh:run', fallbackSeconds: null },
    ]);
  });

  it("models waves, dispatch and gaps, and says it is unsure where a step has only its tool's estimate", () => {
    const estimates: StepEstimate[] = [
      { stepId: 'a', seconds: 10, tailSeconds: 10, from: 'tool', samples: 0, targets: 4, platform: learned },
      { stepId: 'b', seconds: 4, tailSeconds: 4, from: 'history', samples: 4, targets: 4, width: 2, platform: learned },
    ];
    // a: two waves of 2 (10 s + 0.2 s a wave) after a 1 s gap, 21.4 s; b: 1 + 4.2 + 4 + 0.2 = 9.4 s.
    const eta = planEta(plan, estimates)!;
    expect(eta.seconds).toBeCloseTo(30.8, 5);
    // Low confidence: a range 40% either side.
    expect(eta.range).toEqual({
      lowSeconds: 18,
      highSeconds: 43,
      confidence: 'low',
      reason:
        "no history for 4 of 4 targets; 1 step(s) from the tool's estimate; dispatch learned from 5 recent step(s)",
    });
  });

  it('is sure, within 10%, with history on every target and a learned platform', () => {
    const estimates: StepEstimate[] = ['a', 'b'].map((stepId) => ({
      stepId,
      seconds: 4,
      tailSeconds: 4,
      from: 'history',
      samples: 4,
      targets: 4,
      width: 2,
      platform: learned,
    }));
    const eta = planEta(plan, estimates)!;
    expect(eta.seconds).toBeCloseTo(18.8, 5);
    expect(eta.range).toMatchObject({ lowSeconds: 17, highSeconds: 21, confidence: 'high' });
    expect(eta.range.reason).toBe('history on all 4 targets; dispatch learned from 5 recent step(s)');
  });

  it('has no ETA when no step has a length, and the defaults for the platform when none was learned', () => {
    const unknown: StepEstimate[] = ['a', 'b'].map((stepId) => ({
      stepId,
      seconds: null,
      tailSeconds: null,
      from: 'none',
      samples: 0,
      targets: 4,
    }));
    expect(planEta(plan, unknown)).toBeNull();
    const fromTools = planEta(plan, [
      { stepId: 'a', seconds: 10, tailSeconds: 10, from: 'tool', samples: 0, targets: 4 },
    ]);
    expect(fromTools?.range.reason).toContain('no recent jobs to learn dispatch from');
  });
});
