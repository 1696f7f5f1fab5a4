import { beforeAll, describe, expect, it } from 'vitest';
import { egressRules, type ResolvedTarget, type TargetSelector } from '@opsc/contracts';
import { BUILTIN_TOOLS_DIR, loadCatalog, type ToolCatalog } from '@opsc/planning';
import type { Db } from '../db.js';
import { resolverOnce } from '../inventory/resolve.js';
import { resolveJobTargets } from '../inventory/step-targets.js';
import type { TenantPlanning } from './planning-context.js';
import { readyPlan } from './ready-plan.js';

/*
 * A submission resolves its selectors once: the job takes the targets its plan was validated with
 * (readyPlan hands them over with the plan), not whatever the inventory holds a moment later.
 */

const host = (name: string): ResolvedTarget => ({
  id: `id-${name}`,
  name,
  address: '127.0.0.1',
  os: 'linux',
  tags: [],
  services: [{ protocol: 'ssh', port: 22, credentialId: 'c' }],
});

/** A database the job side must not ask: every query fails the test. */
const untouchable = {
  query: () => {
    throw new Error('the job asked the inventory again');
  },
} as unknown as Db;

let catalog: ToolCatalog;
beforeAll(async () => {
  catalog = await loadCatalog([BUILTIN_TOOLS_DIR]);
});

const draft = {
  name: 'Stop nginx',
  steps: [{ id: 'stop', tool: 'service-stop', params: { service: 'nginx' }, targets: { group: 'Production Web' } }],
};

describe('the targets a submission validated', () => {
  it('are the ones its job runs on, asked of the inventory once', async () => {
    let fleet = [host('web-1'), host('web-2')];
    const asked: TargetSelector[] = [];
    const inventoryTargets = resolverOnce(async (selector) => {
      asked.push(selector);
      return fleet;
    });
    const context: TenantPlanning = {
      catalog,
      inventory: async () => ({
        groups: [{ name: 'Production Web', size: fleet.length }],
        targets: fleet.map((t) => ({ name: t.name, os: t.os })),
      }),
      resolveTargets: inventoryTargets,
      inventoryTargets,
      egress: async () => ({ allow: egressRules([]), platform: [] }),
    };
    const ready = await readyPlan(context, { draft });
    // The inventory changes between validation and the job's creation: the job keeps what was validated.
    fleet = [host('web-1'), host('web-2'), host('web-3')];
    const job = await resolveJobTargets(untouchable, 'tenant-1', ready.plan);
    expect(job.targets.map((t) => t.name)).toEqual(['web-1', 'web-2']);
    expect(job.stepTargets).toEqual({ stop: [0, 1] });
    expect(asked).toEqual([{ group: 'Production Web' }]);
  });

  it('are asked again for a plan that did not come from readyPlan', async () => {
    const ready = await readyPlan(
      {
        catalog,
        inventory: async () => ({ groups: [{ name: 'Production Web', size: 1 }], targets: [] }),
        resolveTargets: async () => [host('web-1')],
        egress: async () => ({ allow: egressRules([]), platform: [] }),
      },
      { draft },
    );
    const copy = structuredClone(ready.plan);
    await expect(resolveJobTargets(untouchable, 'tenant-1', copy)).rejects.toThrow('the job asked the inventory again');
  });
});
