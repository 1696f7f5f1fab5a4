import { beforeAll, describe, expect, it } from 'vitest';
import { Plan, actionRisk, type ResolvedTarget, type TargetSelector } from '@opsc/contracts';
import { BUILTIN_TOOLS_DIR, loadCatalog, type ToolCatalog } from '../catalog/index.js';
import { validatePlan, type PlanningContext } from './validate-plan.js';
import { assessExecutablePlan } from './validate-executable.js';
import { resolvedTarget } from './resolved-target.test-support.js';

// The three tools of issue 18 through the one validator: a wait (the workflow's own timer) and the
// reboot and shutdown of a host (destructive, never undone).

const target = resolvedTarget;
const groups: Record<string, ResolvedTarget[]> = {
  web: [target('web-1', 'linux'), target('web-2', 'linux')],
  mixed: [target('l-1', 'linux'), target('w-1', 'windows')],
};
const resolve = async (s: TargetSelector): Promise<ResolvedTarget[]> => groups[s.group ?? ''] ?? [];

let ctx: PlanningContext;
let catalog: ToolCatalog;
beforeAll(async () => {
  catalog = await loadCatalog([BUILTIN_TOOLS_DIR]);
  ctx = { catalog, resolveTargets: resolve };
});

const restartThenWait = (seconds: unknown) => ({
  name: 'stop, wait, start',
  steps: [
    { id: 'stop', tool: 'service-stop', params: { service: 'nginx' }, targets: { group: 'web' } },
    { id: 'pause', tool: 'wait', params: { seconds } },
    { id: 'start', tool: 'service-start', params: { service: 'nginx' }, targets: { group: 'web' } },
  ],
});

describe('wait', () => {
  it('compiles to a timer step of the workflow: no targets, read, "Wait 30 seconds", its seconds in the ETA', async () => {
    const result = await validatePlan(restartThenWait(30), ctx);
    expect(result.issues).toEqual([]);
    const pause = result.plan!.steps[1]!;
    expect(pause.action).toEqual({ method: 'timer', seconds: 30 });
    expect(pause.targets).toBeUndefined();
    expect(pause.name).toBe('Wait 30 seconds');
    expect(pause.tool).toMatchObject({ name: 'wait', risk: 'read', typicalDurationSeconds: 30 });
    expect(result.summary!.bullets[1]).toBe('Wait 30 seconds (read)');
    const without = await validatePlan({ ...restartThenWait(30), steps: restartThenWait(30).steps.slice(0, 1) }, ctx);
    const startOnly = await validatePlan({ ...restartThenWait(30), steps: restartThenWait(30).steps.slice(2) }, ctx);
    expect(result.summary!.etaSeconds).toBe(without.summary!.etaSeconds + 30 + startOnly.summary!.etaSeconds);
    // The wait itself asks for no approval; the plan does for its changes.
    const alone = await validatePlan({ name: 'w', steps: [restartThenWait(5).steps[1]] }, ctx);
    expect(alone.summary).toMatchObject({ risk: 'read', approvalRequired: false, etaSeconds: 5 });
  });

  it('puts its seconds in the plan hash', async () => {
    const [a, b] = await Promise.all([validatePlan(restartThenWait(30), ctx), validatePlan(restartThenWait(31), ctx)]);
    expect(a.planHash).toMatch(/^[0-9a-f]{64}$/);
    expect(a.planHash).not.toBe(b.planHash);
  });

  it.each([
    [0, /greater than or equal to 1|>=1|at least 1/i],
    [3601, /less than or equal to 3600|<=3600|at most 3600/i],
    [2.5, /int/i],
    ['30; reboot', /number|integer/i],
  ])('refuses %j seconds on the field', async (seconds, message) => {
    const result = await validatePlan(restartThenWait(seconds), ctx);
    expect(result.status).not.toBe('ready');
    expect(result.issues).toEqual([
      expect.objectContaining({ path: 'steps.1.params.seconds', message: expect.stringMatching(message) }),
    ]);
  });

  it('asks for the seconds when they are missing, and refuses targets', async () => {
    const missing = await validatePlan({ name: 'w', steps: [{ id: 'pause', tool: 'wait', params: {} }] }, ctx);
    expect(missing.status).toBe('needs-input');
    expect(missing.missing[0]?.path).toBe('steps.0.params.seconds');
    const targeted = await validatePlan(
      { name: 'w', steps: [{ id: 'pause', tool: 'wait', params: { seconds: 3 }, targets: { group: 'web' } }] },
      ctx,
    );
    expect(targeted.issues).toEqual([
      { path: 'steps.0.targets', message: 'wait runs in the job itself (a pause) and takes no targets' },
    ]);
  });

  it('an executable timer step takes no targets and is read-only whatever the body says', () => {
    const timer = { id: 'p', name: 'p', action: { method: 'timer', seconds: 10 } };
    const withTargets = Plan.safeParse({ name: 'x', steps: [{ ...timer, targets: { group: 'web' } }] });
    expect(withTargets.success).toBe(false);
    expect(withTargets.error?.issues[0]?.message).toBe('a timer step runs in the workflow and takes no targets');
    expect(Plan.safeParse({ name: 'x', steps: [{ ...timer, action: { method: 'timer', seconds: 0 } }] }).success).toBe(
      false,
    );
    const assessed = assessExecutablePlan(Plan.parse({ name: 'x', steps: [timer] }), catalog);
    expect(assessed).toMatchObject({ risk: 'read', approvalRequired: false, issues: [] });
  });
});

describe('system-reboot and system-shutdown', () => {
  it('reboot is destructive, needs approval, says it cannot be undone, and compiles per OS', async () => {
    const result = await validatePlan(
      { name: 'r', steps: [{ id: 'reboot', tool: 'system-reboot', params: {}, targets: { group: 'mixed' } }] },
      ctx,
    );
    expect(result.issues).toEqual([]);
    expect(result.summary).toMatchObject({ risk: 'destructive', approvalRequired: true });
    expect(result.summary!.bullets[0]).toMatch(/cannot be undone.*\(destructive; no rollback\)$/);
    expect(result.plan!.steps.map((s) => [s.id, s.action, s.rollback])).toEqual([
      [
        'reboot-linux',
        expect.objectContaining({ method: 'ssh', become: true, operation: { op: 'reboot', timeoutSeconds: 600 } }),
        undefined,
      ],
      [
        'reboot-windows',
        { method: 'winrm', operation: { op: 'reboot', timeoutSeconds: 600 }, successExitCodes: [0] },
        undefined,
      ],
    ]);
    // The step's own time covers the longest wait.
    expect(result.plan!.steps[0]!.timeoutSeconds).toBeGreaterThan(3600);
  });

  it.each([[9], [3601]])('refuses a reboot wait of %j s', async (timeoutSeconds) => {
    const result = await validatePlan(
      { name: 'r', steps: [{ id: 'r', tool: 'system-reboot', params: { timeoutSeconds }, targets: { group: 'web' } }] },
      ctx,
    );
    expect(result.issues.map((i) => i.path)).toEqual(['steps.0.params.timeoutSeconds']);
  });

  it("compiles a reboot and a shutdown to one attempt, whatever the plan's retries", async () => {
    const result = await validatePlan(
      {
        name: 'r',
        policies: { retries: 5 },
        steps: [
          { id: 'reboot', tool: 'system-reboot', params: {}, targets: { group: 'mixed' } },
          { id: 'off', tool: 'system-shutdown', params: {}, targets: { group: 'web' } },
          { id: 'status', tool: 'service-status', params: { service: 'nginx' }, targets: { group: 'web' } },
        ],
      },
      ctx,
    );
    expect(result.issues).toEqual([]);
    expect(result.plan!.steps.map((s) => [s.id, s.maxAttempts])).toEqual([
      ['reboot-linux', 1],
      ['reboot-windows', 1],
      ['off', 1],
      ['status', undefined],
    ]);
    expect(result.plan!.policies.maxAttempts).toBe(5);
  });

  it("refuses a step timeout below the boot wait plus its margin, on the step's field, once for a mixed group", async () => {
    const reboot = (timeoutSeconds: number, wait?: number) => ({
      name: 'r',
      steps: [
        {
          id: 'reboot',
          tool: 'system-reboot',
          params: wait === undefined ? {} : { timeoutSeconds: wait },
          targets: { group: 'mixed' },
          timeoutSeconds,
        },
      ],
    });
    const short = await validatePlan(reboot(60), ctx);
    expect(short.status).not.toBe('ready');
    expect(short.issues).toEqual([
      {
        path: 'steps.0.timeoutSeconds',
        message: expect.stringMatching(/waits up to 600 s .* at least 660 s .*not 60$/),
      },
    ]);
    expect((await validatePlan(reboot(659), ctx)).issues.map((i) => i.path)).toEqual(['steps.0.timeoutSeconds']);
    expect((await validatePlan(reboot(660), ctx)).issues).toEqual([]);
    // The wait the plan chose counts, not the default.
    expect((await validatePlan(reboot(100, 30), ctx)).issues).toEqual([]);
    expect((await validatePlan(reboot(100, 60), ctx)).issues.map((i) => i.path)).toEqual(['steps.0.timeoutSeconds']);
  });

  it.each(['system-reboot', 'system-shutdown'])(
    "%s refuses more than one attempt on the step's field",
    async (tool) => {
      const result = await validatePlan(
        { name: 'r', steps: [{ id: 'p', tool, params: {}, targets: { group: 'web' }, retries: 2 }] },
        ctx,
      );
      expect(result.issues).toEqual([{ path: 'steps.0.retries', message: expect.stringMatching(/runs once.*not 2$/) }]);
      const once = await validatePlan(
        { name: 'r', steps: [{ id: 'p', tool, params: {}, targets: { group: 'web' }, retries: 1 }] },
        ctx,
      );
      expect(once.issues).toEqual([]);
    },
  );

  it('a hand-written plan: a reboot outlasting its step or retried is refused on the field; else it runs once', () => {
    const step = (extra: Record<string, unknown>) =>
      Plan.parse({
        name: 'x',
        steps: [
          {
            id: 's',
            name: 'reboot',
            action: { method: 'ssh', operation: { op: 'reboot', timeoutSeconds: 600 } },
            targets: { group: 'web' },
            ...extra,
          },
        ],
      });
    expect(assessExecutablePlan(step({}), catalog).issues).toEqual([
      { path: 'steps.0.timeoutSeconds', message: expect.stringMatching(/at least 660 s.*not 300$/) },
    ]);
    expect(assessExecutablePlan(step({ timeoutSeconds: 700, maxAttempts: 3 }), catalog).issues).toEqual([
      { path: 'steps.0.maxAttempts', message: expect.stringMatching(/runs once/) },
    ]);
    const fine = assessExecutablePlan(step({ timeoutSeconds: 700 }), catalog);
    expect(fine.issues).toEqual([]);
    expect(fine.plan.steps[0]!.maxAttempts).toBe(1);
  });

  it('shutdown is destructive with no rollback', async () => {
    const result = await validatePlan(
      { name: 's', steps: [{ id: 'off', tool: 'system-shutdown', params: {}, targets: { group: 'mixed' } }] },
      ctx,
    );
    expect(result.summary).toMatchObject({ risk: 'destructive', approvalRequired: true });
    expect(result.plan!.steps.map((s) => (s.action as { operation: unknown }).operation)).toEqual([
      { op: 'shutdown' },
      { op: 'shutdown' },
    ]);
  });

  it('the action alone is destructive: a hand-written plan that calls a reboot read-only is raised', () => {
    for (const action of [
      { method: 'ssh', operation: { op: 'reboot' } },
      { method: 'ssh', operation: { op: 'shutdown' }, become: true },
      { method: 'winrm', operation: { op: 'reboot', timeoutSeconds: 30 } },
      { method: 'winrm', operation: { op: 'shutdown' } },
    ]) {
      const plan = Plan.parse({
        name: 'x',
        steps: [
          {
            id: 's',
            name: 'harmless',
            action,
            targets: { group: 'web' },
            tool: { name: 'service-status', risk: 'read', params: {}, typicalDurationSeconds: 1 },
          },
        ],
      });
      expect(actionRisk(plan.steps[0]!.action)).toBe('destructive');
      expect(assessExecutablePlan(plan, catalog)).toMatchObject({ risk: 'destructive', approvalRequired: true });
    }
  });
});
