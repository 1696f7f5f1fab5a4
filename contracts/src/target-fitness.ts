import type { ResolvedTarget } from './api/inventory.js';
import type { OsFamily } from './inventory.js';

/** The inventory service each remote method goes through. */
const PROTOCOL_OF: Partial<Record<string, 'ssh' | 'winrm' | 'postgresql'>> = {
  ssh: 'ssh',
  winrm: 'winrm',
  database: 'postgresql',
};
/** The OS whose operations each remote shell runs. */
const OS_OF: Partial<Record<string, OsFamily>> = { ssh: 'linux', winrm: 'windows' };
const OS_NAME: Record<OsFamily, string> = { linux: 'Linux', windows: 'Windows' };

/** A step as the fitness rule sees it: its action's method, and the tool and its places when it comes from the catalog. */
export interface StepFit {
  method: string | undefined;
  tool?: { name: string; places: readonly string[] };
}

/**
 * Why a target cannot take a step, or null when it can. The one rule, for the validator (a tool's
 * step) and for a job's targets (any plan's step): the tool runs on the target's OS; ssh runs Linux
 * operations and winrm Windows ones; a remote method needs the target's service of its protocol,
 * with a credential.
 */
export const unfitTarget = (
  target: Pick<ResolvedTarget, 'name' | 'os' | 'services' | 'poolConflict'>,
  step: StepFit,
): string | null => {
  const { method, tool } = step;
  if (target.poolConflict)
    return `${target.name} is in groups of different executor pools (${target.poolConflict.join(', ')}): give the target its own pool`;
  if (tool && !tool.places.includes(target.os) && !tool.places.includes('any'))
    return `${target.name} is a ${target.os} target; ${tool.name} runs on ${tool.places.join(' and ')}`;
  const os = method === undefined ? undefined : OS_OF[method];
  if (os && target.os !== os)
    return `${target.name} is a ${target.os} target; ${method} steps run ${OS_NAME[os]} operations`;
  const protocol = method === undefined ? undefined : PROTOCOL_OF[method];
  if (!protocol) return null;
  const service = target.services.find((s) => s.protocol === protocol);
  if (!service) return `${target.name} has no ${protocol} service in the inventory`;
  if (!service.credentialId) return `the ${protocol} service of ${target.name} has no credential`;
  return null;
};
