import type { ToolDefinition, ToolParam } from '@opsc/contracts';
import type { InventorySketch } from '../builtin/entities.js';
import type { ToolCatalog } from '../catalog/tool-catalog.js';

/**
 * The JSON Schema a model answers with, made from the catalog and the inventory rather than the raw
 * contract: `tool` is one of the real tool names, each tool's parameters are their own object (enums
 * kept), and group and target names are enums of the inventory's names. It carries no length or item
 * bounds: llama.cpp and vLLM turn a schema into a grammar, and large repetition bounds make that grammar
 * too big to build ("number of rules that are going to be repeated exceeds sane defaults"). The validator
 * enforces every bound afterwards, and its errors go back to the model.
 *
 * No parameter is required here: a model forced to fill a path it was not given invents one; the
 * validator asks the operator for what is missing instead.
 */
export type JsonSchema = Record<string, unknown>;

/** Inventory names past these counts are left out of the enums (the prompt says how many more there are). */
const MAX_GROUP_NAMES = 200;
const MAX_TARGET_NAMES = 300;

const paramSchema = (p: ToolParam): JsonSchema => {
  const described = { description: p.description };
  switch (p.type) {
    case 'string':
      return p.enum ? { type: 'string', enum: p.enum, ...described } : { type: 'string', ...described };
    case 'script':
      return { type: 'string', ...described };
    case 'integer':
      return { type: 'integer', ...described };
    case 'boolean':
      return { type: 'boolean', ...described };
    case 'string-list':
      return { type: 'array', items: { type: 'string' }, ...described };
  }
};

const targetsSchema = (inventory: InventorySketch): JsonSchema => {
  const os = { type: 'string', enum: ['linux', 'windows'] };
  const groups = inventory.groups.slice(0, MAX_GROUP_NAMES).map((g) => g.name);
  const targets = inventory.targets.slice(0, MAX_TARGET_NAMES).map((t) => t.name);
  const byGroup: JsonSchema = {
    type: 'object',
    properties: { group: groups.length ? { type: 'string', enum: groups } : { type: 'string' }, os },
    required: ['group'],
    additionalProperties: false,
  };
  const byName: JsonSchema = {
    type: 'object',
    properties: {
      targets: { type: 'array', items: targets.length ? { type: 'string', enum: targets } : { type: 'string' } },
    },
    required: ['targets'],
    additionalProperties: false,
  };
  return { anyOf: [byGroup, byName] };
};

const runsOnTargets = (tool: ToolDefinition) => Object.keys(tool.execution).some((place) => place !== 'executor');

const stepSchema = (tool: ToolDefinition, targets: JsonSchema): JsonSchema => ({
  type: 'object',
  properties: {
    tool: { type: 'string', const: tool.name },
    params: {
      type: 'object',
      properties: Object.fromEntries(Object.entries(tool.params).map(([name, p]) => [name, paramSchema(p)])),
      additionalProperties: false,
    },
    ...(runsOnTargets(tool) && { targets }),
  },
  required: runsOnTargets(tool) ? ['tool', 'params', 'targets'] : ['tool', 'params'],
  additionalProperties: false,
});

const policiesSchema: JsonSchema = {
  type: 'object',
  properties: {
    maxParallel: { type: 'integer', description: 'targets a step works on at once (1 = one at a time)' },
    continueOnFailure: { type: 'boolean' },
    maxFailPercentage: { type: 'integer' },
    onFailThreshold: { type: 'string', enum: ['abort', 'ask'] },
    rollback: { type: 'string', enum: ['none', 'target', 'all'] },
  },
  additionalProperties: false,
};

/** The arguments of `submit_plan`: the plan's name, its steps and its policies. */
export const planSchema = (catalog: ToolCatalog, inventory: InventorySketch): JsonSchema => {
  const targets = targetsSchema(inventory);
  return {
    type: 'object',
    properties: {
      name: { type: 'string', description: 'a short title, e.g. "Restart nginx on Production Web"' },
      steps: { type: 'array', items: { anyOf: catalog.all().map((tool) => stepSchema(tool, targets)) } },
      policies: policiesSchema,
    },
    required: ['name', 'steps'],
    additionalProperties: false,
  };
};

/** The arguments of `cannot_plan`: why, and the closest tools. */
export const refusalSchema = (catalog: ToolCatalog): JsonSchema => ({
  type: 'object',
  properties: {
    message: { type: 'string' },
    closestTools: { type: 'array', items: { type: 'string', enum: catalog.all().map((t) => t.name) } },
  },
  required: ['message'],
  additionalProperties: false,
});

/**
 * The whole answer in structured-output mode (`response_format: json_schema`), where there are no
 * function calls: `decision` first, so a grammar-constrained model commits to a plan or a refusal before
 * it writes either.
 */
export const answerSchema = (catalog: ToolCatalog, inventory: InventorySketch): JsonSchema => {
  const plan = planSchema(catalog, inventory);
  const refusal = refusalSchema(catalog);
  return {
    anyOf: [
      {
        type: 'object',
        properties: { decision: { type: 'string', const: 'plan' }, ...(plan.properties as JsonSchema) },
        required: ['decision', ...(plan.required as string[])],
        additionalProperties: false,
      },
      {
        type: 'object',
        properties: { decision: { type: 'string', const: 'cannot_plan' }, ...(refusal.properties as JsonSchema) },
        required: ['decision', ...(refusal.required as string[])],
        additionalProperties: false,
      },
    ],
  };
};
