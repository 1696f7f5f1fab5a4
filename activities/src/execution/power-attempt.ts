import { ErrorType } from '@opsc/contracts';
import { RemoteFailure } from './remote-failure.js';

/*
 * A reboot or shutdown is issued at most once per step and target. Before an attempt sends the
 * power command it heartbeats this record (the host's boot id or boot time before it, and when);
 * Temporal hands an attempt the last details of the one before, so a retry (a worker lost, a
 * heartbeat or step timeout) finds the command issued and only waits for the host to come back.
 * Steps with power operations are compiled to one attempt; this guards the rest.
 */

/** What an attempt heartbeats, under `power`, before it sends the power command. */
export interface PowerIssued {
  op: 'reboot' | 'shutdown';
  attempt: number;
  issuedAt: string;
  /** Linux: the boot id before; Windows: LastBootUpTime before (`o` format); '' for a shutdown. */
  before: string;
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

/** The record in an earlier attempt's heartbeat details, checked field by field; undefined if there is none. */
export const powerIssuedIn = (details: unknown, op: PowerIssued['op']): PowerIssued | undefined => {
  const power = (details as { power?: unknown } | null | undefined)?.power;
  if (power === null || typeof power !== 'object') return undefined;
  const r = power as Record<string, unknown>;
  if (r.op !== op || typeof r.issuedAt !== 'string' || !ISO.test(r.issuedAt)) return undefined;
  if (typeof r.attempt !== 'number' || !Number.isInteger(r.attempt) || r.attempt < 1) return undefined;
  if (typeof r.before !== 'string' || r.before.length > 100) return undefined;
  return { op, attempt: r.attempt, issuedAt: r.issuedAt, before: r.before };
};

/**
 * Whether this attempt issues the power command (`issue`) or an earlier one did (`earlier`). A
 * retry that finds no record fails for good: the attempt before may have sent the command before
 * its record reached the server, and a second reboot or power-off is never the safe guess.
 */
export const powerStart = (
  attempt: number,
  details: unknown,
  op: PowerIssued['op'],
  targetName: string,
): { issue: true } | { issue: false; earlier: PowerIssued } => {
  if (attempt <= 1) return { issue: true };
  const earlier = powerIssuedIn(details, op);
  if (earlier) return { issue: false, earlier };
  throw new RemoteFailure(
    ErrorType.ConnectionLost,
    `attempt ${attempt} of the ${op} of ${targetName} did not send it again: an earlier attempt may have, and left no record of it; check the host`,
    { final: true },
  );
};

/** The line a retry writes instead of issuing the command again. */
export const notIssuedAgain = (earlier: PowerIssued): string =>
  `the ${earlier.op} was issued by attempt ${earlier.attempt} at ${earlier.issuedAt}; not issued again`;

/** The "before" value a reboot needs to tell the new boot from the old one; without it, a clear final failure. */
export const requireBefore = (before: string, valid: (s: string) => boolean, what: string, where: string): string => {
  if (valid(before)) return before;
  throw new RemoteFailure(
    ErrorType.CommandFailed,
    `could not read the ${what} of ${where} before the reboot${before ? ` (got ${JSON.stringify(before.slice(0, 60))})` : ''}: nothing would tell its next boot from this one`,
    { final: true },
  );
};
