import type { Action } from './plan.js';

/** The change each check operation reports on: a check is the read-only twin of its step's own operation. */
const CHECKED_OPERATION: Readonly<Record<string, string>> = {
  'service-check': 'service',
  'package-check': 'package',
  'file-check': 'file-copy',
  'file-restore-check': 'file-restore',
  'config-backup-check': 'config-backup',
  'config-restore-check': 'config-restore',
};

const same = (a: unknown, b: unknown): boolean => {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]));
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object' || Array.isArray(b)) return false;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
};

/**
 * Whether a check may stand for a step's action in check mode: it is the read-only twin of the
 * action's own operation (`service-check` of a `service` change, `file-check` of a `file-copy`), by
 * the same method, every field it names equal to the action's (the same service, file, backup,
 * archive, artifact SHA-256), and as root only where the action is. The catalog's checks are made
 * this way; anything else (a probe of another path, another file) is no check of this step.
 */
export const checkFitsAction = (check: Action, action: Action): boolean => {
  if (check.method !== action.method || (check.method !== 'ssh' && check.method !== 'winrm')) return false;
  if (check.method === 'ssh' && check.become && !(action.method === 'ssh' && action.become)) return false;
  const probe = check.operation as Record<string, unknown>;
  const change = (action as { operation: Record<string, unknown> }).operation;
  if (CHECKED_OPERATION[String(probe.op)] !== change.op) return false;
  return Object.entries(probe).every(([key, value]) => key === 'op' || same(value, change[key]));
};
