import { beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_TOOLS_DIR, loadCatalog, type ToolCatalog } from '../catalog/index.js';
import type { InventorySketch } from '../builtin/entities.js';
import { answerSchema, planSchema } from './answer-schema.js';
import { draftOf } from './model-answer.js';
import { PlanTitle } from '@opsc/contracts';

const inventory: InventorySketch = {
  groups: [
    { name: 'CIS servers', size: 25 },
    { name: 'Production Web', size: 10 },
  ],
  targets: [
    { name: 'web-server-01', os: 'linux' },
    { name: 'app01', os: 'windows' },
  ],
};
let catalog: ToolCatalog;
beforeAll(async () => {
  catalog = await loadCatalog([BUILTIN_TOOLS_DIR]);
});

type Node = Record<string, unknown>;
const walk = (node: unknown, visit: (n: Node) => void): void => {
  if (Array.isArray(node)) node.forEach((n) => walk(n, visit));
  else if (node && typeof node === 'object') {
    visit(node as Node);
    Object.values(node).forEach((n) => walk(n, visit));
  }
};
const stepSchemas = () =>
  ((planSchema(catalog, inventory).properties as Node).steps as { items: { anyOf: Node[] } }).items.anyOf;
const stepOf = (tool: string) =>
  stepSchemas().find((s) => ((s.properties as Node).tool as { const: string }).const === tool) as Node;

describe('the schema a model answers in', () => {
  it('names every catalog tool once, as a constant a grammar can hold the model to', () => {
    const tools = stepSchemas().map((s) => ((s.properties as Node).tool as { const: string }).const);
    expect(tools.sort()).toEqual(
      catalog
        .all()
        .map((t) => t.name)
        .sort(),
    );
  });

  it('gives each tool its own parameters, with their enums and no other names, none of them forced', () => {
    const events = stepOf('event-log-query');
    const params = (events.properties as Node).params as { properties: Node; additionalProperties: boolean };
    expect(params.additionalProperties).toBe(false);
    expect(Object.keys(params.properties).sort()).toEqual(Object.keys(catalog.get('event-log-query')!.params).sort());
    expect(params.properties.level).toMatchObject({ enum: ['critical', 'error', 'warning', 'information'] });
    expect(params).not.toHaveProperty('required');
  });

  it("holds targets to the inventory's group and target names, and asks none of tools that run in the job or on the executor", () => {
    const targets = (stepOf('service-stop').properties as Node).targets as { anyOf: Node[] };
    expect(JSON.stringify(targets)).toContain('"enum":["CIS servers","Production Web"]');
    expect(JSON.stringify(targets)).toContain('"enum":["web-server-01","app01"]');
    expect(stepOf('service-stop').required).toContain('targets');
    for (const tool of ['wait', 'http-check', 'ping']) {
      expect((stepOf(tool).properties as Node).targets).toBeUndefined();
      expect(stepOf(tool).required).not.toContain('targets');
    }
  });

  it('carries no length or item bound, which would make a grammar too large for llama.cpp to build', () => {
    const bounds = ['minLength', 'maxLength', 'minItems', 'maxItems', 'pattern', 'minimum', 'maximum'];
    walk(answerSchema(catalog, inventory), (n) => {
      for (const bound of bounds)
        expect(n, `a ${bound} in ${JSON.stringify(n).slice(0, 80)}`).not.toHaveProperty(bound);
    });
  });

  it('lets the model commit to a plan or a refusal first', () => {
    const [plan, refusal] = (answerSchema(catalog, inventory) as { anyOf: Node[] }).anyOf as [Node, Node];
    expect(Object.keys(plan.properties as Node)[0]).toBe('decision');
    expect((refusal.properties as Node).decision).toEqual({ type: 'string', const: 'cannot_plan' });
  });
});

describe("a model's answer as a draft", () => {
  it('gives steps without ids one from their tool, unique, and keeps the request and a name', () => {
    const draft = draftOf(
      {
        decision: 'plan',
        steps: [
          { tool: 'service-stop', params: { service: 'x' } },
          { tool: 'service-stop', params: { service: 'y' } },
          { tool: 'disk-space', id: 'bad id!' },
        ],
      },
      'stop x and y',
    );
    expect(draft).toMatchObject({ name: 'stop x and y', request: 'stop x and y' });
    expect((draft.steps as { id: string }[]).map((s) => s.id)).toEqual([
      'service-stop',
      'service-stop-2',
      'disk-space',
    ]);
    expect(draft).not.toHaveProperty('decision');
    // No name from the model: no title; the job shows a summary of its steps.
    expect(draft).not.toHaveProperty('title');
  });

  it("keeps the model's name as the plan's title, one bounded line of plain text whatever it wrote", () => {
    const draft = draftOf(
      { name: `Restart <b>nginx</b>\n\u202Eon web\t${'x'.repeat(300)}`, steps: [] },
      'restart nginx',
    );
    const title = String(draft.title);
    expect(title.startsWith('Restart <b>nginx</b> on web x')).toBe(true);
    expect(title.length).toBeLessThanOrEqual(120);
    expect(title).not.toMatch(/[\n\t\u202E]/);
  });

  it('never passes a title of its own through raw: a model that writes one without a name still gets a plain line', () => {
    const draft = draftOf({ title: `Restart nginx\u202E\n${'y'.repeat(300)}`, steps: [] }, 'restart nginx');
    expect(PlanTitle.safeParse(draft.title).success).toBe(true);
    expect(String(draft.title).startsWith('Restart nginx y')).toBe(true);
    // A name wins over a title the model also wrote.
    expect(draftOf({ name: 'Restart nginx', title: 'Other', steps: [] }, 'r').title).toBe('Restart nginx');
    expect(draftOf({ title: 42, steps: [] }, 'r')).not.toHaveProperty('title');
  });
});
