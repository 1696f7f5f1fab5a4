import { beforeAll, describe, expect, it } from 'vitest';
import { PlanDraft, fillTemplatePlan, type TemplateParam } from '@opsc/contracts';
import { templateShapeHash } from '@opsc/contracts/plan-hash';
import { BUILTIN_TOOLS_DIR, loadCatalog, type ToolCatalog } from '@opsc/planning';
import { codeParams, deriveTemplate, intersect } from './derive-template.js';

let catalog: ToolCatalog;
const lookup = (name: string) => catalog.get(name);
beforeAll(async () => {
  catalog = await loadCatalog([BUILTIN_TOOLS_DIR]);
});

const draft = PlanDraft.parse({
  name: 'restart a service',
  steps: [
    { id: 'before', tool: 'service-status', params: { service: 'nginx' }, targets: { group: 'Production Web' } },
    { id: 'restart', tool: 'service-restart', params: { service: 'nginx' }, targets: { group: 'Production Web' } },
  ],
});

describe('deriveTemplate', () => {
  it("takes a parameter's type and constraints from the tool, and the plan's value as its default", () => {
    const t = deriveTemplate(
      draft,
      [
        {
          name: 'service',
          binds: [
            { step: 'before', param: 'service' },
            { step: 'restart', param: 'service' },
          ],
        },
        {
          name: 'where',
          binds: [
            { step: 'before', selector: 'group' },
            { step: 'restart', selector: 'group' },
          ],
        },
        { name: 'wait', binds: [{ step: 'restart', param: 'timeoutSeconds' }] },
      ],
      lookup,
    );
    expect(t.issues).toEqual([]);
    const [service, where, wait] = t.parameters;
    expect(service).toMatchObject({
      type: 'string',
      required: false,
      default: 'nginx',
      patterns: [catalog.get('service-restart')!.params.service!.pattern],
      description: expect.stringMatching(/service name/),
    });
    expect(where).toMatchObject({ type: 'group', default: 'Production Web', required: false });
    // The tool's default (30 s) and bounds.
    expect(wait).toMatchObject({ type: 'integer', default: 30, min: 1, max: 3600 });
    expect(t.plan.steps[1]).toMatchObject({
      params: { service: '{{params.service}}', timeoutSeconds: '{{params.wait}}' },
      targets: '{{params.where}}',
    });
    // The draft itself is left alone.
    expect(draft.steps[1]!.params).toEqual({ service: 'nginx' });
  });

  it('keeps no default for a parameter asked to be required, and checks a given default against the schema', () => {
    const t = deriveTemplate(
      draft,
      [
        { name: 'service', binds: [{ step: 'restart', param: 'service' }], required: true },
        { name: 'wait', binds: [{ step: 'restart', param: 'timeoutSeconds' }], default: 9999 },
      ],
      lookup,
    );
    expect(t.parameters[0]).toMatchObject({ required: true });
    expect(t.parameters[0]).not.toHaveProperty('default');
    expect(t.issues).toEqual([{ path: 'parameters.1.default', message: 'must be at most 3600' }]);
  });

  it('names the parameter and binding at fault', () => {
    const t = deriveTemplate(
      draft,
      [
        { name: 'x', binds: [{ step: 'nope', param: 'service' }] },
        { name: 'y', binds: [{ step: 'before', param: 'colour' }] },
        {
          name: 'z',
          binds: [
            { step: 'before', param: 'service' },
            { step: 'restart', param: 'timeoutSeconds' },
          ],
        },
        { name: 'w', binds: [{ step: 'before', param: 'service' }] },
      ],
      lookup,
    );
    expect(t.issues).toEqual([
      { path: 'parameters.0.binds.0.step', message: 'the plan has no step nope' },
      { path: 'parameters.1.binds.0.param', message: 'service-status has no parameter colour' },
      { path: 'parameters.2.binds.1', message: 'binds a string and a integer: one parameter has one type' },
      { path: 'parameters.3.binds.0', message: 'before.params.service is bound already (by z)' },
    ]);
  });

  it('refuses a script parameter: a run could make it any program', () => {
    const scripted = PlanDraft.parse({
      name: 's',
      steps: [{ id: 'run', tool: 'run-script', params: { script: 'uptime' }, targets: { group: 'web' } }],
    });
    const param = Object.entries(catalog.get('run-script')!.params).find(([, p]) => p.type === 'script')![0];
    const t = deriveTemplate(scripted, [{ name: 'code', binds: [{ step: 'run', param }] }], lookup);
    expect(t.issues).toEqual([
      { path: 'parameters.0.binds.0.param', message: expect.stringMatching(/script parameter/) },
    ]);
  });

  it("refuses a parameter that fills what a target runs: a command's program or arguments, a database query", () => {
    const commands = PlanDraft.parse({
      name: 'c',
      steps: [
        { id: 'df', tool: 'run-command', params: { program: 'df', args: ['-h'] }, targets: { group: 'web' } },
        { id: 'q', tool: 'database-query', params: { query: 'SELECT 1' }, targets: { group: 'db' } },
      ],
    });
    const t = deriveTemplate(
      commands,
      [
        { name: 'program', binds: [{ step: 'df', param: 'program' }] },
        { name: 'args', binds: [{ step: 'df', param: 'args' }] },
        { name: 'query', binds: [{ step: 'q', param: 'query' }] },
      ],
      lookup,
    );
    expect(t.issues).toEqual(
      [0, 1, 2].map((i) => ({
        path: `parameters.${i}.binds.0.param`,
        message: expect.stringMatching(/is what the target runs: it cannot be a template parameter/),
      })),
    );
    expect([...codeParams(catalog.get('run-command')!)].sort()).toEqual(['args', 'program']);
    expect([...codeParams(catalog.get('service-restart')!)]).toEqual([]);
  });

  it('refuses a plan whose own text reads as a template placeholder', () => {
    const sneaky = PlanDraft.parse({ ...draft, name: 'restart {{params.service}}' });
    expect(deriveTemplate(sneaky, [], lookup).issues).toEqual([
      { path: 'draft.name', message: 'may not contain "{{params."' },
    ]);
  });
});

describe('intersect', () => {
  it('keeps the common enum values, every pattern and the tightest bounds', () => {
    expect(
      intersect(
        { type: 'string', required: false, enum: ['a', 'b', 'c'], patterns: ['[a-z]+'] },
        { type: 'string', required: true, enum: ['b', 'c', 'd'], patterns: ['.{1,3}'], maxLength: 3 },
      ),
    ).toEqual({ type: 'string', required: true, enum: ['b', 'c'], patterns: ['[a-z]+', '.{1,3}'], maxLength: 3 });
    expect(
      intersect(
        { type: 'integer', required: false, min: 1, max: 100 },
        { type: 'integer', required: false, min: 10, max: 3600 },
      ),
    ).toEqual({ type: 'integer', required: false, min: 10, max: 100 });
    expect(
      intersect({ type: 'string', required: false, enum: ['a'] }, { type: 'string', required: false, enum: ['b'] }),
    ).toMatch(/no common value/);
    expect(
      intersect({ type: 'integer', required: false, max: 5 }, { type: 'integer', required: false, min: 6 }),
    ).toMatch(/do not overlap/);
  });
});

describe('the shape hash', () => {
  it('changes with the plan or any parameter constraint, not with key order', () => {
    const t = deriveTemplate(draft, [{ name: 'service', binds: [{ step: 'restart', param: 'service' }] }], lookup);
    const hash = templateShapeHash(t);
    const reordered = {
      parameters: t.parameters.map((p) => Object.fromEntries(Object.entries(p).reverse())),
      plan: t.plan,
    };
    expect(templateShapeHash(reordered)).toBe(hash);
    const looser: TemplateParam[] = t.parameters.map((p) => ({ ...p, patterns: ['.*'] }));
    expect(templateShapeHash({ plan: t.plan, parameters: looser })).not.toBe(hash);
    const other = structuredClone(t.plan);
    other.steps[0]!.tool = 'service-stop';
    expect(templateShapeHash({ plan: other, parameters: t.parameters })).not.toBe(hash);
  });
});

describe('filling a derived template', () => {
  it('round-trips: the defaults give back the plan it was saved from', () => {
    const t = deriveTemplate(
      draft,
      [
        {
          name: 'service',
          binds: [
            { step: 'before', param: 'service' },
            { step: 'restart', param: 'service' },
          ],
        },
        { name: 'where', binds: [{ step: 'restart', selector: 'group' }] },
      ],
      lookup,
    );
    expect(fillTemplatePlan(t.plan, t.parameters, {})).toEqual({
      draft,
      issues: [],
      values: { service: 'nginx', where: 'Production Web' },
    });
  });
});
