import {
  DEFAULT_POOL,
  quietPoolIssues,
  unfitTarget,
  type FieldIssue,
  type Plan,
  type ResolvedTarget,
  type RunJobInput,
} from '@opsc/contracts';
import { DomainError, InvalidInput } from '../errors.js';
import type { Db } from '../db.js';
import { resolverOnce, resolveTargets, type InventoryResolver } from './resolve.js';

export type JobTargets = Pick<RunJobInput, 'targets' | 'stepTargets'>;

/** The resolver each ready plan was validated with, by the plan object `readyPlan` returned. */
const validatedWith = new WeakMap<Plan, InventoryResolver>();

/** Marks a ready plan with the resolver its validation used, so its job takes the same targets without asking again. */
export const resolvedWith = (plan: Plan, resolve: InventoryResolver): Plan => {
  validatedWith.set(plan, resolve);
  return plan;
};

/**
 * Fixes every remote step's targets when the job is created: the job then runs on exactly these,
 * whatever the inventory becomes meanwhile. A plan from `readyPlan` takes what its validation
 * resolved; any other asks the inventory, once per selector. An empty selection or a target the
 * step cannot take is invalid input naming the step's field.
 */
export const resolveJobTargets = async (
  db: Db,
  tenantId: string,
  plan: Plan,
  pathPrefix = 'plan',
  /** Which executor pools no executor polls now (pool-liveness.ts): their targets are refused. */
  quietPools?: (pools: string[]) => Promise<ReadonlySet<string>>,
): Promise<JobTargets> => {
  const resolve = validatedWith.get(plan) ?? resolverOnce((selector) => resolveTargets(db, tenantId, selector));
  const targets: JobTargets['targets'] = [];
  const indexById = new Map<string, number>();
  const stepTargets: JobTargets['stepTargets'] = {};
  const issues: FieldIssue[] = [];
  for (const [i, step] of plan.steps.entries()) {
    if (!step.targets) continue;
    const at = `${pathPrefix}.steps.${i}.targets`;
    let resolved: ResolvedTarget[];
    try {
      resolved = await resolve(step.targets);
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      issues.push(
        ...(err.issues ?? [{ path: '', message: err.message }]).map((issue) => ({
          path: issue.path ? `${at}.${issue.path}` : at,
          message: issue.message,
        })),
      );
      continue;
    }
    if (resolved.length === 0) issues.push({ path: at, message: 'selects no targets' });
    for (const target of resolved) {
      const problem = unfitTarget(target, { method: step.action.method });
      if (problem) issues.push({ path: at, message: problem });
    }
    if (quietPools && resolved.length) {
      const quiet = await quietPools([...new Set(resolved.map((t) => t.executorPool ?? DEFAULT_POOL))]);
      for (const message of quietPoolIssues(resolved, quiet)) issues.push({ path: at, message });
    }
    stepTargets[step.id] = resolved.map((target) => {
      let index = indexById.get(target.id);
      if (index === undefined) {
        const pool = target.executorPool ?? DEFAULT_POOL;
        // The pool is fixed with the job: its actions go to that pool's executors whatever the inventory becomes.
        index = targets.push({ id: target.id, name: target.name, ...(pool !== DEFAULT_POOL && { pool }) }) - 1;
        indexById.set(target.id, index);
      }
      return index;
    });
  }
  if (issues.length) throw new InvalidInput("the plan's targets do not resolve", issues);
  return { targets, stepTargets };
};
