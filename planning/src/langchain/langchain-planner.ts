import { HumanMessage, SystemMessage, ToolMessage, type AIMessage, type BaseMessage } from '@langchain/core/messages';
import { ChatOpenAI } from '@langchain/openai';
import { z } from 'zod';
import { PlanDraft } from '@opsc/contracts';
import type { PlannerAnswer } from '../builtin/builtin-planner.js';
import type { Planner, PlannerContext } from '../propose.js';
import { systemPrompt } from './prompt.js';

export interface LangChainPlannerOptions {
  apiKey: string;
  /** Any OpenAI-compatible server: OpenAI, Azure's compatible endpoint, vLLM, Ollama. */
  baseURL?: string;
  model: string;
  timeoutMs: number;
  /** Times a reply that does not validate is sent back with its errors. */
  maxRepairs: number;
}

const SUBMIT = 'submit_plan';
const REFUSE = 'cannot_plan';

const RefusalArgs = z.strictObject({
  message: z.string().min(1).max(2_000),
  closestTools: z.array(z.string()).max(10).default([]),
});

/** The planner's two tools: the plan (its JSON Schema is the contracts' PlanDraft) or an honest refusal. */
const tools = () => [
  {
    type: 'function' as const,
    function: {
      name: SUBMIT,
      description:
        'Submit the plan: steps that each name one catalog tool, its parameters and its targets, plus the rollout policies.',
      parameters: z.toJSONSchema(PlanDraft, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
    },
  },
  {
    type: 'function' as const,
    function: {
      name: REFUSE,
      description:
        'Say that the request cannot be planned with the catalog (or is unclear or unsafe), naming the closest tools.',
      parameters: z.toJSONSchema(RefusalArgs, { io: 'input' }) as Record<string, unknown>,
    },
  },
];

const describeIssues = (issues: { path: string; message: string }[]) =>
  issues.map((i) => `- ${i.path}: ${i.message}`).join('\n');

/**
 * The LLM planner: the catalog and the inventory's names go to the model (never a credential),
 * which must answer by calling `submit_plan` or `cannot_plan`. The plan is checked by the same
 * validator as every other plan; its errors go back to the model for a bounded number of
 * repairs. Anything else (a timeout, a vendor error, no valid plan in time) is thrown, and the
 * built-in planner answers instead.
 */
export const createLangChainPlanner = (options: LangChainPlannerOptions): Planner => {
  const model = new ChatOpenAI({
    model: options.model,
    apiKey: options.apiKey,
    temperature: 0,
    maxRetries: 0,
    timeout: options.timeoutMs,
    useResponsesApi: false,
    ...(options.baseURL && { configuration: { baseURL: options.baseURL } }),
  }).bindTools(tools(), { tool_choice: 'required' });

  return {
    name: 'langchain',
    async plan(ctx: PlannerContext): Promise<PlannerAnswer> {
      const signal = AbortSignal.timeout(options.timeoutMs);
      const messages: BaseMessage[] = [
        new SystemMessage(systemPrompt(ctx.catalog, ctx.inventory)),
        new HumanMessage(ctx.request),
      ];
      let lastProblem = 'no answer';
      for (let attempt = 0; attempt <= options.maxRepairs; attempt++) {
        const reply = (await model.invoke(messages, { signal })) as AIMessage;
        messages.push(reply);
        const invalid = reply.invalid_tool_calls?.[0];
        const call = reply.tool_calls?.[0];
        if (invalid) {
          lastProblem = `the arguments of ${invalid.name ?? 'the tool call'} are not valid JSON`;
          messages.push(
            new ToolMessage({
              tool_call_id: invalid.id ?? 'invalid',
              content: `${lastProblem} (${invalid.error ?? 'parse error'}). Call ${SUBMIT} again with valid JSON.`,
            }),
          );
          continue;
        }
        if (!call) {
          lastProblem = 'the model answered without calling a tool';
          messages.push(new HumanMessage(`Answer only by calling ${SUBMIT} or ${REFUSE}.`));
          continue;
        }
        const answer = (content: string) =>
          messages.push(new ToolMessage({ tool_call_id: call.id ?? call.name, content }));
        if (call.name === REFUSE) {
          const refusal = RefusalArgs.safeParse(call.args);
          if (refusal.success)
            return {
              kind: 'refusal',
              message: refusal.data.message,
              closestTools: refusal.data.closestTools.filter((t) => ctx.catalog.get(t)),
            };
          lastProblem = 'the refusal does not match its schema';
          answer(`${lastProblem}: ${refusal.error.message}`);
          continue;
        }
        if (call.name !== SUBMIT) {
          lastProblem = `the model called an unknown function ${call.name}`;
          answer(`There is no function ${call.name}. Call ${SUBMIT} or ${REFUSE}.`);
          continue;
        }
        const args = { ...call.args, request: ctx.request };
        const validation = await ctx.validate(args);
        if (validation.status === 'ready' || validation.status === 'needs-input') {
          return { kind: 'plan', draft: validation.draft ?? PlanDraft.parse(args), notes: [] };
        }
        lastProblem = `the plan does not validate:\n${describeIssues(validation.issues)}`;
        answer(`${lastProblem}\nFix these and call ${SUBMIT} again, using only the catalog's tools and parameters.`);
      }
      throw new Error(`no valid plan after ${options.maxRepairs} repair(s): ${lastProblem}`);
    },
  };
};
