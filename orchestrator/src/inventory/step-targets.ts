import type { FieldIssue, Plan, ResolvedTarget, RunJobInput, Step } from '@opsc/contracts';
import { DomainError, InvalidInput } from '../errors.js';
import type { Db } from '../db.js';
import { resolveTargets } from './resolve.js';

export type JobTargets = Pick<RunJobInput, 'targets' | 'stepTargets'>;

/** Why a target cannot take a step of this method, or null when it can. */
const unfit = (step: Step, target: ResolvedTarget): string | null => {
  const method = step.action.method;
  if (method === 'database') {
    const service = target.services.find((s) => s.protocol === 'postgresql');
    if (!service) return `${target.name} has no postgresql service in the inventory`;
    if (!service.credentialId) return `the postgresql service of ${target.name} has no credential`;
    return null;
  }
  if (method !== 'ssh' && method !== 'winrm') return null;
  const os = method === 'ssh' ? 'linux' : 'windows';
  if (target.os !== os) return `${target.name} is a ${target.os} target; ${method} steps run ${method === 'ssh' ? 'Linux' : 'Windows'} operations`;
  const service = target.services.find((s) => s.protocol === method);
  if (!service) return `${target.name} has no ${method} service in the inventory`;
  if (!service.credentialId) return `the ${method} service of ${target.name} has no credential`;
  return null;
};

/**
 * Resolves every remote step's selector against the tenant's inventory, once, when the job is
 * created: the job then runs on exactly these targets, whatever the inventory becomes meanwhile.
 * An empty selection or a target the step cannot reach is invalid input naming the step's field.
 */
export const resolveJobTargets = async (db: Db, tenantId: string, plan: Plan, pathPrefix = 'plan'): Promise<JobTargets> => {
  const targets: JobTargets['targets'] = [];
  const indexById = new Map<string, number>();
  const stepTargets: JobTargets['stepTargets'] = {};
  const issues: FieldIssue[] = [];
  for (const [i, step] of plan.steps.entries()) {
    if (!step.targets) continue;
    const at = `${pathPrefix}.steps.${i}.targets`;
    let resolved: ResolvedTarget[];
    try {
      resolved = await resolveTargets(db, tenantId, step.targets);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      issues.push(...(err.issues ?? [{ path: '', message: err.message }]).map((issue) => ({ path: issue.path ? `${at}.${issue.path}` : at, message: issue.message })));
      continue;
    }
    if (resolved.length === 0) issues.push({ path: at, message: 'selects no targets' });
    for (const target of resolved) {
      const problem = unfit(step, target);
      if (problem) issues.push({ path: at, message: problem });
    }
    stepTargets[step.id] = resolved.map((target) => {
      let index = indexById.get(target.id);
      if (index === undefined) {
        index = targets.push({ id: target.id, name: target.name }) - 1;
        indexById.set(target.id, index);
      }
      return index;
    });
  }
  if (issues.length) throw new InvalidInput('the plan\'s targets do not resolve', issues);
  return { targets, stepTargets };
};
