import { beforeAll, describe, expect, it } from 'vitest';
import { LINUX_CHECK_OPS, WINDOWS_CHECK_OPS, isCheckAction } from '@opsc/contracts';
import { BUILTIN_TOOLS_DIR, loadCatalog, parseToolFile, ToolCatalogError, type ToolCatalog } from './index.js';
import { validatePlan } from '../validate/validate-plan.js';
import { resolvedTarget } from '../validate/resolved-target.test-support.js';

const CHANGE_TOOL = `name: demo-stop
description: Stops a demo service on targets.
summary: 'Stop {{service}}'
risk: change
typicalDurationSeconds: 3
params:
  service:
    type: string
    description: The service
    required: true
execution:
  linux:
    method: ssh
    operation: { op: service, action: stop, name: '{{service}}' }
`;
const CHECK = `check:
  linux:
    method: ssh
    operation: { op: service-check, action: stop, name: '{{service}}' }
`;

const refusal = (text: string): ToolCatalogError => {
  try {
    parseToolFile(text, 'tools/demo.yaml');
  } catch (err) {
    if (err instanceof ToolCatalogError) return err;
    throw err;
  }
  throw new Error('expected the tool file to be refused');
};

const linuxTarget = resolvedTarget;

let catalog: ToolCatalog;
beforeAll(async () => {
  catalog = await loadCatalog([BUILTIN_TOOLS_DIR]);
});

describe("the tools' check key", () => {
  it('is declared by every shipped tool that may change something, as read-only check operations or "would run"', () => {
    const mayChange = catalog.all().filter((t) => t.risk !== 'read' || t.riskIf.length > 0);
    expect(mayChange.length).toBeGreaterThanOrEqual(14);
    for (const tool of mayChange) expect(tool.check, tool.name).toBeDefined();
    for (const tool of catalog.all()) {
      for (const os of ['linux', 'windows'] as const) {
        const template = tool.check?.[os] as { operation: { op: string } } | undefined;
        if (!template) continue;
        const ops: ReadonlySet<string> = os === 'linux' ? LINUX_CHECK_OPS : WINDOWS_CHECK_OPS;
        expect(ops.has(template.operation.op), `${tool.name} on ${os}`).toBe(true);
        // A check covers each OS the change runs on.
        expect(tool.execution[os], `${tool.name} on ${os}`).toBeDefined();
      }
    }
    const wouldRun = catalog
      .all()
      .filter((t) => t.check?.wouldRun)
      .map((t) => t.name)
      .sort();
    expect(wouldRun).toEqual(['database-query', 'run-command', 'run-script', 'system-reboot', 'system-shutdown']);
  });

  it('refuses a change tool without a check, a change operation as a check, and a check on an OS the tool does not run on', () => {
    const missing = refusal(CHANGE_TOOL);
    expect(missing.field).toBe('check');
    expect(missing.reason).toContain('declares a check');
    const change = refusal(CHANGE_TOOL + CHECK.replace('op: service-check', 'op: service'));
    expect(change.field).toBe('check.linux.operation.op');
    expect(change.reason).toContain('read-only check operation');
    const elsewhere = refusal(
      `${CHANGE_TOOL}${CHECK}  windows:\n    method: winrm\n    operation: { op: service-check, action: stop, name: '{{service}}' }\n`,
    );
    expect(elsewhere.field).toBe('check.windows');
    const both = refusal(`${CHANGE_TOOL}${CHECK}  wouldRun: 'cannot tell'\n`);
    expect(both.field).toBe('check');
    const unknown = refusal(CHANGE_TOOL + CHECK.replace("name: '{{service}}'", "name: '{{svc}}'"));
    expect(unknown.field).toBe('check.linux.operation.name');
    expect(parseToolFile(CHANGE_TOOL + CHECK, 'tools/demo.yaml').check?.linux).toBeDefined();
  });

  it('gives each validated step its check: a probe per OS variant, or the reason it would only run', async () => {
    const mixed = [linuxTarget('l1', 'linux'), linuxTarget('w1', 'windows')];
    const result = await validatePlan(
      {
        name: 'Deploy',
        steps: [
          { id: 'stop', tool: 'service-stop', params: { service: 'app' }, targets: { group: 'mixed' } },
          { id: 'pkg', tool: 'package-install', params: { package: 'nginx' }, targets: { group: 'linux' } },
          { id: 'script', tool: 'run-script', params: { script: 'echo hi' }, targets: { group: 'linux' } },
          { id: 'status', tool: 'service-status', params: { service: 'app' }, targets: { group: 'linux' } },
        ],
      },
      {
        catalog,
        resolveTargets: async (s) => (s.group === 'mixed' ? mixed : mixed.filter((t) => t.os === 'linux')),
      },
    );
    expect(result.issues).toEqual([]);
    const byId = new Map(result.plan!.steps.map((s) => [s.id, s]));
    expect(byId.get('stop-linux')?.check).toEqual({
      kind: 'probe',
      action: {
        method: 'ssh',
        become: false,
        successExitCodes: [0],
        operation: { op: 'service-check', action: 'stop', name: 'app' },
      },
    });
    expect(byId.get('stop-windows')?.check).toMatchObject({
      kind: 'probe',
      action: { method: 'winrm', operation: { op: 'service-check', action: 'stop', name: 'app' } },
    });
    expect(byId.get('pkg')?.check).toMatchObject({
      action: { operation: { op: 'package-check', action: 'install', name: 'nginx' } },
    });
    expect(byId.get('script')?.check).toEqual({
      kind: 'would-run',
      reason: 'what a script changes cannot be known before it runs',
    });
    expect(byId.get('status')?.check).toBeUndefined();
    for (const step of result.plan!.steps)
      if (step.check?.kind === 'probe') expect(isCheckAction(step.check.action)).toBe(true);
    expect(isCheckAction(byId.get('stop-linux')!.action)).toBe(false);
  });
});
