import { OutcomeFact, outcomeBytesOf, outcomeFactOf, type Action, type StepMeta } from '@opsc/contracts';
import type { Outcome } from './run-step.js';

/**
 * Keeps what a step's run established on one target (`OutcomeFact`, from the step's typed result),
 * one character per target in the step's record, and the size of a file it moved: the `progress`
 * query counts them into the step's facts ("18 running, 7 stopped", "25 copied (45.2 MB each)").
 * A failed run clears the target's fact. Plain data, deterministic, no command.
 */
export const noteOutcomeFact = (
  meta: StepMeta | undefined,
  t: number,
  targetCount: number,
  action: Action,
  outcome: Outcome,
): void => {
  if (!meta) return;
  const code = outcome.ok ? outcomeFactOf(action, outcome.output) : OutcomeFact.none;
  if (code === OutcomeFact.none && meta.facts === undefined) return;
  const row = (meta.facts ?? '').padEnd(targetCount, ' ');
  meta.facts = row.slice(0, t) + code + row.slice(t + 1);
  const bytes = code === OutcomeFact.none ? undefined : outcomeBytesOf(outcome.output);
  if (bytes !== undefined)
    meta.bytes = meta.bytes
      ? { min: Math.min(meta.bytes.min, bytes), max: Math.max(meta.bytes.max, bytes) }
      : { min: bytes, max: bytes };
};
