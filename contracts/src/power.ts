import type { Action } from './plan.js';

/**
 * Seconds a reboot step needs beyond its boot wait: to connect, read the boot id and issue the
 * reboot before the wait starts. A step timeout below wait + margin would end the attempt while
 * the host is still coming back.
 */
export const POWER_STEP_MARGIN_SECONDS = 60;

/** A reboot or shutdown of the target, with the reboot's wait for the host; undefined for any other action. */
export const powerOperation = (
  action: Action | Record<string, unknown>,
): { op: 'reboot' | 'shutdown'; waitSeconds: number } | undefined => {
  if (action.method !== 'ssh' && action.method !== 'winrm') return undefined;
  const operation = (action as { operation?: { op?: unknown; timeoutSeconds?: unknown } }).operation;
  if (operation?.op === 'shutdown') return { op: 'shutdown', waitSeconds: 0 };
  if (operation?.op !== 'reboot') return undefined;
  const wait = operation.timeoutSeconds;
  return { op: 'reboot', waitSeconds: typeof wait === 'number' && Number.isFinite(wait) ? wait : 600 };
};

/**
 * Why a step's own timeout or attempts do not fit its power operation, per field; empty when they do
 * (or it is none). A reboot or shutdown runs once: a retry could power the host off or reboot it
 * again, so more than one attempt is refused, and a reboot's step must outlast its wait.
 */
export const powerStepProblems = (
  action: Action | Record<string, unknown>,
  step: { timeoutSeconds?: number; attempts?: number },
): { field: 'timeoutSeconds' | 'attempts'; message: string }[] => {
  const power = powerOperation(action);
  if (!power) return [];
  const problems: { field: 'timeoutSeconds' | 'attempts'; message: string }[] = [];
  const least = power.waitSeconds + POWER_STEP_MARGIN_SECONDS;
  if (power.op === 'reboot' && step.timeoutSeconds !== undefined && step.timeoutSeconds < least)
    problems.push({
      field: 'timeoutSeconds',
      message: `a reboot that waits up to ${power.waitSeconds} s for the host needs a step timeout of at least ${least} s (the wait plus ${POWER_STEP_MARGIN_SECONDS} s), not ${step.timeoutSeconds}`,
    });
  if (step.attempts !== undefined && step.attempts > 1)
    problems.push({
      field: 'attempts',
      message: `a ${power.op} runs once (a retry could ${power.op === 'reboot' ? 'reboot the host again' : 'power it off again'}): attempts must be 1, not ${step.attempts}`,
    });
  return problems;
};
