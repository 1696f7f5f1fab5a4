import { z } from 'zod';

/**
 * How a job runs its plan: `run` makes the changes; `check` changes nothing and reports, per step and
 * target, what the change would do (each step's `check` in place of its action; no approval, no
 * validation, no rollback).
 */
export const JobMode = z.enum(['run', 'check']);
export type JobMode = z.infer<typeof JobMode>;

/** What check mode found for one step on one target. */
export const CheckVerdict = z.enum(['would-change', 'no-change', 'would-run']);
export type CheckVerdict = z.infer<typeof CheckVerdict>;

/** The fact a check operation reports its finding in: `yes`, `no`, or `unknown`. */
export const WOULD_CHANGE_FACT = 'would_change';

/** A check's verdict from the facts it reported; a check that could not tell is reported as one that would run. */
export const checkVerdictOf = (facts: Record<string, string> | undefined): CheckVerdict => {
  const said = facts?.[WOULD_CHANGE_FACT];
  return said === 'yes' ? 'would-change' : said === 'no' ? 'no-change' : 'would-run';
};

/** The words the monitor and the job's log use for a verdict. */
export const CHECK_VERDICT_TEXT: Record<CheckVerdict, string> = {
  'would-change': 'would change',
  'no-change': 'no change',
  'would-run': 'would run',
};
