import { ErrorType, type Action } from '@opsc/contracts';
import type { Outcome } from './run-step.js';

/**
 * What a step's run did to its target, as far as the job can tell:
 * - `changed`: it succeeded, or its report shows a change (a package at another version);
 * - `unchanged`: its report, or the way it was refused, shows it changed nothing;
 * - `ran`: it ran to an exit code without saying; what it reported decides its undo;
 * - `unknown`: no result came back (timed out, connection lost, the executor's records away):
 *   it may have changed the host, and nothing says how.
 */
export type Change = 'changed' | 'unchanged' | 'ran' | 'unknown';

/**
 * Refusals that come before anything runs on the target, and alike on every attempt (they follow
 * from the request, the plan, the credential or the pinned key, not from the moment). A host that
 * stops answering is not one of them: an earlier attempt may have run before it went away.
 */
const REFUSED_BEFORE_RUNNING = new Set<ErrorType>([
  ErrorType.Forbidden,
  ErrorType.PlanInvalid,
  ErrorType.ValidationFailed,
  ErrorType.CommandNotAllowed,
  ErrorType.EgressDenied,
  ErrorType.NotFound,
  ErrorType.AuthFailed,
  ErrorType.HostKeyMismatch,
]);

/** Reads the facts the executor's scripts report on failure too (see linux-scripts.ts and windows-scripts.ts). */
const fromFacts = (action: Action, facts: Record<string, string>): Change => {
  if (action.method === 'ssh') {
    const { op } = action.operation;
    // previous_version is reported before the package manager runs, version after it whatever its exit.
    if (op === 'package') {
      if (facts.previous_version === undefined) return 'unchanged';
      if (facts.version === undefined) return 'unknown';
      return facts.version === facts.previous_version ? 'unchanged' : 'changed';
    }
    // The service manager is reported before anything is asked of it: without it, nothing was.
    if ((op === 'service' || op === 'service-wait') && facts.manager === undefined) return 'unchanged';
  }
  if (action.method === 'winrm' && action.operation.op === 'service') {
    // `before` is reported once the service is found; a start or stop that ends in the state it
    // began in left the service alone (a restart does not: it went through Stopped).
    if (facts.before === undefined) return 'unchanged';
    if (action.operation.action !== 'restart' && facts.before === facts.state) return 'unchanged';
  }
  return 'ran';
};

/**
 * What the run described by `outcome` did to its target (see `Change`). A success that reports no
 * change (a package already at its version, a service already stopped) is `unchanged` too: its undo
 * would change what the job found as it was. A retry reports the first attempt's facts (run markers).
 */
export const changeOf = (action: Action, outcome: Outcome): Change => {
  const { output, error } = outcome;
  // A refusal says nothing ran only on the first attempt: a retry's refusal (a credential rotated,
  // the gate closed) may follow an attempt that ran and was lost.
  if (!output)
    return outcome.ok
      ? 'changed'
      : error && !error.retried && REFUSED_BEFORE_RUNNING.has(error.type)
        ? 'unchanged'
        : 'unknown';
  // An HTTP request that got an answer was received: what it did, only the service knows.
  const reported = output.kind === 'command' ? fromFacts(action, output.facts ?? {}) : 'ran';
  if (outcome.ok) return reported === 'unchanged' ? 'unchanged' : 'changed';
  return reported;
};
