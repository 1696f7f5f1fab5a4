import type { ToolCatalog } from '../catalog/tool-catalog.js';
import { builtinPlan, type PlannerAnswer } from './builtin-planner.js';
import type { InventorySketch } from './entities.js';

/** `cis-01` … : inventory names as the planner tests write them. */
export const names = (prefix: string, n: number): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}-${String(i + 1).padStart(2, '0')}`);

/**
 * The built-in planner's tests ask it through these: a draft (failing the test on a refusal), a
 * refusal's message (failing it on a plan), the tools or steps planned. `catalog` is read when asked,
 * so a test file loads it in its `beforeAll`.
 */
export const plannerProbe = (inventory: InventorySketch, catalog: () => ToolCatalog) => {
  const plan = (request: string): PlannerAnswer => builtinPlan({ request, inventory, catalog: catalog() });
  const drafted = (request: string) => {
    const answer = plan(request);
    if (answer.kind !== 'plan') throw new Error(`refused "${request}": ${answer.message}`);
    return answer;
  };
  const refusal = (request: string) => {
    const answer = plan(request);
    if (answer.kind !== 'refusal') throw new Error(`planned "${request}": ${JSON.stringify(answer.draft.steps)}`);
    return answer.message;
  };
  const tools = (request: string) => {
    const answer = plan(request);
    return answer.kind === 'plan' ? answer.draft.steps.map((s) => s.tool) : 'refused';
  };
  const steps = (request: string) => drafted(request).draft.steps.map((s) => [s.tool, s.params]);
  return { plan, drafted, refusal, tools, steps };
};
