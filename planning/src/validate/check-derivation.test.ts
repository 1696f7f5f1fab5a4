import { beforeAll, describe, expect, it } from 'vitest';
import { Plan, checkFitsAction, type PlanDraftInput, type ResolvedTarget, type TargetSelector } from '@opsc/contracts';
import { BUILTIN_TOOLS_DIR, loadCatalog, type ToolCatalog } from '../catalog/index.js';
import { validatePlan, type PlanningContext } from './validate-plan.js';
import { assessExecutablePlan } from './validate-executable.js';
import { resolvedTarget } from './resolved-target.test-support.js';

// Check mode runs with no approval, so what a step probes there is the server's alone: derived from
// the step's catalog tool and parameters, never taken from a plan's body.
const hosts: ResolvedTarget[] = [resolvedTarget('web-1', 'linux'), resolvedTarget('win-1', 'windows')];
let catalog: ToolCatalog;
let ctx: PlanningContext;
beforeAll(async () => {
  catalog = await loadCatalog([BUILTIN_TOOLS_DIR]);
  ctx = { catalog, resolveTargets: async (s: TargetSelector) => hosts.filter((t) => !s.os || t.os === s.os) };
});

const all = { group: 'All' };
const linux = { group: 'All', os: 'linux' as const };
const draft: PlanDraftInput = {
  name: 'every checked change',
  steps: [
    { id: 'stop', tool: 'service-stop', params: { service: 'nginx' }, targets: all },
    { id: 'start', tool: 'service-start', params: { service: 'nginx' }, targets: all },
    { id: 'restart', tool: 'service-restart', params: { service: 'nginx' }, targets: all },
    { id: 'copy', tool: 'file-copy', params: { source: 'app.bin', destination: '/opt/app/app.bin' }, targets: linux },
    { id: 'restore', tool: 'file-restore', params: { destination: '/opt/app/app.bin' }, targets: linux },
    { id: 'install', tool: 'package-install', params: { package: 'htop', version: '3.2.2-2' }, targets: linux },
    { id: 'update', tool: 'package-update', params: { package: 'nginx' }, targets: linux },
    { id: 'remove', tool: 'package-remove', params: { package: 'htop' }, targets: linux },
    { id: 'backup', tool: 'config-backup', params: { paths: ['/etc/nginx'] }, targets: linux },
    { id: 'unpack', tool: 'config-restore', params: { archive: '/var/backups/opsc/a.tgz' }, targets: linux },
    { id: 'script', tool: 'run-script', params: { script: 'true' }, targets: linux },
  ],
};
const validated = async (d: PlanDraftInput = draft): Promise<Plan> => {
  const v = await validatePlan(structuredClone(d), ctx);
  expect(v.issues).toEqual([]);
  return v.plan!;
};
const rawStep = (over: Record<string, unknown>) =>
  Plan.parse({
    name: 'raw',
    steps: [
      {
        id: 's',
        name: 'Stop nginx',
        targets: { targets: ['web-1'] },
        action: { method: 'ssh', become: true, operation: { op: 'service', action: 'stop', name: 'nginx' } },
        tool: { name: 'service-stop', risk: 'change', params: { service: 'nginx' }, typicalDurationSeconds: 6 },
        ...over,
      },
    ],
  });
const shadowProbe = {
  kind: 'probe',
  action: {
    method: 'ssh',
    become: true,
    operation: { op: 'file-restore-check', destination: '/tmp/x', backup: '/etc/shadow' },
  },
};

describe("a step's check is the server's", () => {
  it("makes every catalog check the read-only twin of its step's action (what the executor's gate admits)", async () => {
    const plan = await validated();
    const probes = plan.steps.filter((s) => s.check?.kind === 'probe');
    expect(probes.map((s) => s.id)).toEqual(
      expect.arrayContaining(['stop-linux', 'stop-windows', 'copy', 'restore', 'install', 'backup', 'unpack']),
    );
    for (const s of probes) {
      const check = s.check!.kind === 'probe' ? s.check!.action : null;
      expect(checkFitsAction(check!, s.action), s.id).toBe(true);
      // Another step's check stands for no other change.
      expect(
        checkFitsAction(check!, plan.steps.find((o) => o.id !== s.id && o.action.method === s.action.method)!.action),
      ).toBe(false);
    }
    expect(plan.steps.find((s) => s.id === 'script')?.check).toMatchObject({ kind: 'would-run' });
  });

  it('derives the same checks again for a validated plan submitted as a raw plan', async () => {
    const plan = await validated();
    const again = assessExecutablePlan(plan, catalog);
    expect(again.issues).toEqual([]);
    expect(again.plan.steps.map((s) => s.check)).toEqual(plan.steps.map((s) => s.check));
  });

  it("refuses a raw plan whose body brings a check other than the step's own (plan.steps.N.check)", () => {
    const forged = assessExecutablePlan(rawStep({ check: shadowProbe }), catalog);
    expect(forged.issues).toEqual([{ path: 'steps.0.check', message: expect.stringMatching(/derives it from/) }]);
    // The step's own check, as the server derives it, is accepted: and also left out.
    const own = {
      kind: 'probe',
      action: { method: 'ssh', operation: { op: 'service-check', action: 'stop', name: 'nginx' } },
    };
    const fine = assessExecutablePlan(rawStep({ check: own }), catalog);
    expect(fine.issues).toEqual([]);
    const derived = assessExecutablePlan(rawStep({}), catalog);
    expect(derived.issues).toEqual([]);
    expect(derived.plan.steps[0]?.check).toEqual(fine.plan.steps[0]?.check);
    expect(derived.plan.steps[0]?.check).toMatchObject({
      kind: 'probe',
      action: { operation: { op: 'service-check' } },
    });
  });

  it('gives a raw action no catalog tool makes no check (it would run), and refuses one the body brings', () => {
    const command = {
      action: { method: 'ssh', operation: { op: 'run', argv: ['systemctl', 'stop', 'nginx'] } },
      tool: undefined,
    };
    const plain = assessExecutablePlan(rawStep(command), catalog);
    expect(plain.issues).toEqual([]);
    expect(plain.plan.steps[0]?.check).toBeUndefined();
    const forged = assessExecutablePlan(rawStep({ ...command, check: shadowProbe }), catalog);
    expect(forged.issues).toEqual([{ path: 'steps.0.check', message: expect.stringMatching(/has no check/) }]);
    // A would-run check is the server's word too.
    const said = assessExecutablePlan(rawStep({ ...command, check: { kind: 'would-run', reason: 'x' } }), catalog);
    expect(said.issues.map((i) => i.path)).toEqual(['steps.0.check']);
  });

  it("derives no check where the action is not what the step's tool makes of its parameters", () => {
    const other = rawStep({
      action: { method: 'ssh', become: true, operation: { op: 'service', action: 'stop', name: 'sshd' } },
    });
    expect(assessExecutablePlan(other, catalog).plan.steps[0]?.check).toBeUndefined();
    const badParams = rawStep({
      tool: { name: 'service-stop', risk: 'change', params: { service: 'nginx; id' }, typicalDurationSeconds: 6 },
    });
    expect(assessExecutablePlan(badParams, catalog).plan.steps[0]?.check).toBeUndefined();
  });

  it('probes nothing flagged: a check of a credential file is reported as one that would run, whichever way the plan came', async () => {
    const restore: PlanDraftInput = {
      name: 'restore',
      steps: [
        { id: 'r', tool: 'file-restore', params: { destination: '/tmp/x', backup: '/etc/shadow' }, targets: linux },
      ],
    };
    const plan = await validated(restore);
    expect(plan.steps[0]?.check).toMatchObject({ kind: 'would-run', reason: expect.stringMatching(/credentials/) });
    const raw = assessExecutablePlan(plan, catalog);
    expect(raw.issues).toEqual([]);
    expect(raw.plan.steps[0]?.check).toEqual(plan.steps[0]?.check);
    // The same step with the probe forged back in: refused.
    const forged = structuredClone(plan);
    forged.steps[0]!.check = Plan.parse({
      name: 'p',
      steps: [{ ...plan.steps[0], check: shadowProbe }],
    }).steps[0]!.check;
    expect(assessExecutablePlan(forged, catalog).issues.map((i) => i.path)).toEqual(['steps.0.check']);
  });
});
