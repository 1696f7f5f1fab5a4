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

/** One character per target in a step row of the progress' `checks`, like `Cell` in `matrix`. */
export const CheckCode = { 'would-change': 'C', 'no-change': 'N', 'would-run': 'U', none: ' ' } as const;
export type CheckCode = (typeof CheckCode)[keyof typeof CheckCode];

/** A `checks` character back to its verdict, or null where no check reported. */
export const checkVerdictOfCode = (code: string | undefined): CheckVerdict | null =>
  code === 'C' ? 'would-change' : code === 'N' ? 'no-change' : code === 'U' ? 'would-run' : null;

/** What a check found is judged on: now against wanted, installed against available, hash against hash. */
const PAIRS: [string, string, string][] = [
  ['state', 'wanted', 'state'],
  ['installed', 'available', 'package'],
  ['target_sha256', 'artifact_sha256', 'sha256 on target'],
  ['target_sha256', 'backup_sha256', 'sha256 on target'],
];

/** A line for the monitor and the log: the verdict, then the facts it rests on (`state active, wanted inactive`). */
export const describeCheck = (verdict: CheckVerdict, facts: Record<string, string> = {}): string => {
  const short = (v: string) => (/^[0-9a-f]{64}$/.test(v) ? v.slice(0, 12) : v || 'none');
  const parts: string[] = [];
  for (const [now, other, label] of PAIRS)
    if (now in facts && other in facts) parts.push(`${label} ${short(facts[now]!)} vs ${short(facts[other]!)}`);
  if (facts.backup && facts.backup !== 'none') parts.push(`backup ${facts.backup}`);
  if (facts.differences) parts.push(`${facts.differences} difference(s)`);
  if (facts.present) parts.push(`${facts.present} path(s) to archive`);
  return parts.length > 0 ? `${CHECK_VERDICT_TEXT[verdict]}: ${parts.join('; ')}` : CHECK_VERDICT_TEXT[verdict];
};
