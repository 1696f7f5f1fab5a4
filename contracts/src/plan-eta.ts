import type { StepEstimate, StepEstimateRequest } from './activities.js';
import {
  DEFAULT_PLATFORM,
  atWidth,
  confidenceOf,
  estimateRemainingSeconds,
  liveEstimate,
  type EtaBasis,
  type EtaRange,
  type PlatformTiming,
} from './eta.js';
import type { Plan } from './plan.js';
import { toolKeyOf } from './risk.js';

/*
 * The first estimate of a plan, the same whether the API makes it for the plan card (before a job
 * exists) or the job's workflow makes it when the job starts: per-target durations from earlier runs
 * (else the tools' estimates), the platform's dispatch cost, and the plan's window and targets.
 */

/** Per step, its phase: the OS variants of one plan step run at once and share one window. */
export const phasesOf = (plan: Plan): number[] => {
  const out: number[] = [];
  for (const [i, step] of plan.steps.entries()) {
    const previous = plan.steps[i - 1];
    out.push(i > 0 && step.variantOf && previous?.variantOf === step.variantOf ? out[i - 1]! : i);
  }
  return out;
};

/** Where the first estimate's durations come from (timers take what they say and count as known). */
export const basisOf = (plan: Plan, estimates: readonly StepEstimate[]): EtaBasis => {
  const basis: EtaBasis = { targets: 0, withoutHistory: 0, toolSteps: 0, estimateSteps: 0, unknownSteps: 0 };
  // Per phase (the OS variants of one step together): its targets, and those without history.
  const phases = phasesOf(plan);
  const perPhase = new Map<number, { targets: number; without: number }>();
  for (const e of estimates) {
    const index = plan.steps.findIndex((s) => s.id === e.stepId);
    const step = plan.steps[index];
    if (!step || step.action.method === 'timer') continue;
    const targets = e.targets ?? 0;
    const onThese = e.from === 'history' && !e.otherTargets ? Math.min(targets, e.samples) : 0;
    const phase = perPhase.get(phases[index]!) ?? { targets: 0, without: 0 };
    phase.targets += targets;
    phase.without += targets - onThese;
    perPhase.set(phases[index]!, phase);
    basis.targets = Math.max(basis.targets, phase.targets);
    basis.withoutHistory = Math.max(basis.withoutHistory, phase.without);
    if (e.from === 'history' && e.otherTargets) basis.toolSteps += 1;
    else if (e.from === 'tool') basis.estimateSteps += 1;
    else if (e.from === 'none') basis.unknownSteps += 1;
  }
  return basis;
};

/** What the ETA asks history about a plan's steps: each step's tool, and what to fall back on. */
export const estimateRequests = (plan: Plan): StepEstimateRequest[] =>
  plan.steps.map((step) => ({
    stepId: step.id,
    toolKey: toolKeyOf(step),
    // A wait takes what it says, whoever wrote the step.
    fallbackSeconds: step.action.method === 'timer' ? step.action.seconds : (step.tool?.typicalDurationSeconds ?? null),
  }));

/** The platform's cost the estimates came with: the defaults from an orchestrator that did not learn it. */
export const platformOf = (estimates: readonly StepEstimate[]): PlatformTiming =>
  estimates[0]?.platform ?? DEFAULT_PLATFORM;

/**
 * A step's per-target seconds (mean and slow end) at the width it will run at: runs measured beside
 * fewer (or more) targets than this step runs at once take longer (or less).
 */
export const expectedAtWidth = (
  plan: Plan,
  e: StepEstimate,
  platform: PlatformTiming,
): { seconds: number | null; tailSeconds: number | null } => {
  const width = Math.min(plan.policies.maxParallel, platform.slots ?? Infinity, e.targets ?? 1);
  const at = (x: number | null) => (x === null || e.width === undefined ? x : atWidth(x, e.width, width, platform));
  return { seconds: at(e.seconds), tailSeconds: at(e.tailSeconds) };
};

/**
 * A plan's ETA before anything runs: the range, how sure it is and why, from the estimates of its
 * steps (see `estimateSteps`; each carries its step's target count). Null when no step's length is known.
 */
export const planEta = (
  plan: Plan,
  estimates: readonly StepEstimate[],
): { seconds: number; range: EtaRange } | null => {
  const platform = platformOf(estimates);
  const phases = phasesOf(plan);
  const byId = new Map(estimates.map((e) => [e.stepId, e]));
  const steps = plan.steps.map((step, i) => {
    const e = byId.get(step.id);
    const { seconds, tailSeconds } = e ? expectedAtWidth(plan, e, platform) : { seconds: null, tailSeconds: null };
    return {
      expectedSeconds: seconds,
      tailSeconds,
      pending: e?.targets ?? 1,
      runningElapsed: [],
      phase: phases[i]!,
    };
  });
  const total = estimateRemainingSeconds(steps, plan.policies.maxParallel, 0, platform);
  if (total === null) return null;
  const { confidence, why } = confidenceOf(basisOf(plan, estimates), platform);
  const live = liveEstimate({
    modelRemaining: total,
    modelTotal: total,
    done: 0,
    elapsed: null,
    confidence,
    why,
    workLeft: true,
  });
  return { seconds: live.seconds, range: live.range };
};
