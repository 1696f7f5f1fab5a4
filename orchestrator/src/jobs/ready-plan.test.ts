import { beforeAll, describe, expect, it } from 'vitest';
import { Plan, egressRules, type ResolvedTarget, type TargetSelector } from '@opsc/contracts';
import { BUILTIN_TOOLS_DIR, TargetResolutionError, loadCatalog } from '@opsc/planning';
import { InvalidPlan } from '../errors.js';
import type { TenantPlanning } from './planning-context.js';
import { readyPlan } from './ready-plan.js';

/*
 * The one gate a job's plan passes, with the real tool catalog. The tenant's inventory and egress
 * allow list come as data here; planning-context.ts reads the same from PostgreSQL.
 */

const web: ResolvedTarget[] = ['web-1', 'web-2'].map((name) => ({
  id: `id-${name}`,
  name,
  address: '127.0.0.1',
  os: 'linux',
  tags: [],
  services: [{ protocol: 'ssh', port: 22, credentialId: 'c' }],
}));
const resolveTargets = async (s: TargetSelector): Promise<ResolvedTarget[]> => {
  if (s.group !== 'Production Web') throw new TargetResolutionError([{ path: 'group', message: 'no such group' }]);
  return web;
};

let context: TenantPlanning;
beforeAll(async () => {
  context = {
    catalog: await loadCatalog([BUILTIN_TOOLS_DIR]),
    inventory: async () => ({
      groups: [{ name: 'Production Web', size: 2 }],
      targets: web.map((t) => ({ name: t.name, os: t.os })),
    }),
    resolveTargets,
    egress: async () => ({ allow: egressRules(['127.0.0.1:8080']), platform: [] }),
  };
});

const rawPlan = (steps: unknown[], policies: Record<string, unknown> = {}) => ({
  plan: Plan.parse({ name: 'raw', steps, policies }),
});

describe('readiness of a raw executable plan', () => {
  it('needs no approval when every step only reads', async () => {
    const ready = await readyPlan(
      context,
      rawPlan([{ id: 'e', name: 'Echo', action: { method: 'local-command', command: 'echo', args: ['hi'] } }]),
    );
    expect(ready).toMatchObject({
      risk: 'read',
      approvalRequired: false,
      approvalReasons: [],
      summary: null,
      request: null,
    });
  });

  it('judges the risk from the actions, not from what the body claims', async () => {
    const ready = await readyPlan(
      context,
      rawPlan(
        [{ id: 'rm', name: 'Remove', action: { method: 'local-command', command: 'rm', args: ['-f', '/tmp/x'] } }],
        { approvalRequired: false },
      ),
    );
    expect(ready.risk).toBe('change');
    expect(ready.approvalRequired).toBe(true);
    expect(ready.approvalReasons).toEqual(['step "rm" is change']);
    expect(ready.plan.policies.approvalRequired).toBe(true);
  });

  it('keeps approval when the plan asks for it, even for a read', async () => {
    const ready = await readyPlan(
      context,
      rawPlan([{ id: 'e', name: 'Echo', action: { method: 'local-command', command: 'echo' } }], {
        approvalRequired: true,
      }),
    );
    expect(ready).toMatchObject({
      risk: 'read',
      approvalRequired: true,
      approvalReasons: ['the plan asks for approval'],
    });
  });

  it("refuses a step that reaches outside the tenant's egress allow list, naming the plan's field", async () => {
    const refused = readyPlan(
      context,
      rawPlan([{ id: 'p', name: 'Probe', action: { method: 'http', url: 'http://127.0.0.1:9090/x' } }]),
    );
    await expect(refused).rejects.toBeInstanceOf(InvalidPlan);
    await expect(refused).rejects.toMatchObject({
      type: 'PlanInvalid',
      message: 'the plan does not validate',
      issues: [expect.objectContaining({ path: 'plan.steps.0.action.url' })],
    });
    await expect(
      readyPlan(
        context,
        rawPlan([{ id: 'p', name: 'Probe', action: { method: 'http', url: 'http://127.0.0.1:8080/x' } }]),
      ),
    ).resolves.toMatchObject({ risk: 'read' });
  });
});

describe('readiness of an edited draft', () => {
  it('validates it again: the catalog sets the risk and approval, and a summary comes with it', async () => {
    const draft = {
      name: 'Stop nginx',
      steps: [{ id: 'stop', tool: 'service-stop', params: { service: 'nginx' }, targets: { group: 'Production Web' } }],
    };
    const ready = await readyPlan(context, { draft });
    expect(ready.risk).toBe('change');
    expect(ready.approvalRequired).toBe(true);
    expect(ready.summary).toMatchObject({ risk: 'change', approvalRequired: true });
    expect(ready.plan.steps.map((s) => s.action.method)).toEqual(['ssh']);
  });

  it('refuses a draft whose targets do not resolve, with paths under draft', async () => {
    const draft = {
      name: 'Stop nginx',
      steps: [{ id: 'stop', tool: 'service-stop', params: { service: 'nginx' }, targets: { group: 'Nowhere' } }],
    };
    const refused = readyPlan(context, { draft });
    await expect(refused).rejects.toBeInstanceOf(InvalidPlan);
    const err = (await refused.catch((e: unknown) => e)) as InvalidPlan;
    expect(err.message).toBe('the plan does not validate');
    expect(err.issues?.length).toBeGreaterThan(0);
    for (const issue of err.issues ?? []) expect(issue.path.startsWith('draft.')).toBe(true);
  });
});
