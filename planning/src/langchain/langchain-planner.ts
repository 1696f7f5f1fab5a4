import { HumanMessage, type AIMessage, SystemMessage, ToolMessage, type BaseMessage } from '@langchain/core/messages';
import { ChatOpenAI } from '@langchain/openai';
import { PlanDraft } from '@opsc/contracts';
import type { PlannerAnswer } from '../builtin/builtin-planner.js';
import type { Planner, PlannerContext } from '../propose.js';
import { answerSchema, planSchema, refusalSchema } from './answer-schema.js';
import { draftOf, RefusalArgs } from './model-answer.js';
import { systemPrompt } from './prompt.js';

/**
 * How the model is asked for its answer:
 * - `tools`: function calling with `tool_choice: "required"` (OpenAI, Azure OpenAI, vLLM with a tool parser);
 * - `json-schema`: structured output, `response_format: json_schema`, which llama.cpp and vLLM turn into a
 *   grammar the model cannot leave (small local models that do not honour `tool_choice`);
 * - `auto`: function calling first; when the server refuses it or the model answers without calling a
 *   function, structured output from then on.
 */
export type LlmMode = 'tools' | 'json-schema' | 'auto';

export interface LangChainPlannerOptions {
  apiKey: string;
  /** Any OpenAI-compatible server: OpenAI, Azure's compatible endpoint, vLLM, Ollama, llama.cpp. */
  baseURL?: string;
  model: string;
  timeoutMs: number;
  /** Times a reply that does not validate is sent back with its errors. */
  maxRepairs: number;
  mode?: LlmMode;
  /** Tokens one reply may take: a model that rambles is cut off, not waited for. */
  maxTokens?: number;
}

const SUBMIT = 'submit_plan';
const REFUSE = 'cannot_plan';

/** What one reply amounts to. */
type Reply =
  | { kind: 'plan'; args: Record<string, unknown>; feedback: (text: string) => BaseMessage }
  | { kind: 'refusal'; args: unknown; feedback: (text: string) => BaseMessage }
  | { kind: 'problem'; problem: string; feedback: BaseMessage; noCall?: boolean };

const describeIssues = (issues: { path: string; message: string }[]) =>
  issues.map((i) => `- ${i.path}: ${i.message}`).join('\n');

/** Reads a function-calling reply. */
const readToolReply = (reply: AIMessage): Reply => {
  const invalid = reply.invalid_tool_calls?.[0];
  if (invalid) {
    const problem = `the arguments of ${invalid.name ?? 'the tool call'} are not valid JSON`;
    return {
      kind: 'problem',
      problem,
      feedback: new ToolMessage({
        tool_call_id: invalid.id ?? 'invalid',
        content: `${problem} (${invalid.error ?? 'parse error'}). Call ${SUBMIT} again with valid JSON.`,
      }),
    };
  }
  const call = reply.tool_calls?.[0];
  if (!call)
    return {
      kind: 'problem',
      problem: 'the model answered without calling a tool',
      feedback: new HumanMessage(`Answer only by calling ${SUBMIT} or ${REFUSE}.`),
      noCall: true,
    };
  const feedback = (content: string) => new ToolMessage({ tool_call_id: call.id ?? call.name, content });
  if (call.name === REFUSE) return { kind: 'refusal', args: call.args, feedback };
  if (call.name !== SUBMIT)
    return {
      kind: 'problem',
      problem: `the model called an unknown function ${call.name}`,
      feedback: feedback(`There is no function ${call.name}. Call ${SUBMIT} or ${REFUSE}.`),
    };
  return { kind: 'plan', args: call.args, feedback };
};

/** Reads a structured-output reply: one JSON object whose `decision` says plan or refusal. */
const readJsonReply = (reply: AIMessage): Reply => {
  const text = typeof reply.content === 'string' ? reply.content : JSON.stringify(reply.content);
  const feedback = (content: string) => new HumanMessage(content);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    const problem = 'the answer is not valid JSON';
    return { kind: 'problem', problem, feedback: feedback(`${problem} (${(err as Error).message}). Answer again.`) };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    return {
      kind: 'problem',
      problem: 'the answer is not a JSON object',
      feedback: feedback('Answer with one object.'),
    };
  const answer = parsed as Record<string, unknown>;
  if (answer.decision === 'cannot_plan') return { kind: 'refusal', args: answer, feedback };
  return { kind: 'plan', args: answer, feedback };
};

/**
 * The LLM planner: the catalog and the inventory's names go to the model (never a credential or an
 * address), which answers with a plan or a refusal in the schema made from them (answer-schema.ts).
 * The plan is checked by the same validator as every other plan; its errors go back to the model for a
 * bounded number of repairs. Anything else (a timeout, a vendor error, no valid plan in time) is thrown,
 * and the built-in planner answers instead.
 */
export const createLangChainPlanner = (options: LangChainPlannerOptions): Planner => {
  const chat = new ChatOpenAI({
    model: options.model,
    apiKey: options.apiKey,
    temperature: 0,
    maxRetries: 0,
    timeout: options.timeoutMs,
    maxTokens: options.maxTokens ?? 1_024,
    useResponsesApi: false,
    ...(options.baseURL && { configuration: { baseURL: options.baseURL } }),
  });
  // `auto` learns once per planner which way the server answers.
  let mode: 'tools' | 'json-schema' = options.mode === 'json-schema' ? 'json-schema' : 'tools';
  const mayFallBack = (options.mode ?? 'auto') === 'auto';

  const ask = async (
    ctx: PlannerContext,
    messages: BaseMessage[],
    signal: AbortSignal,
  ): Promise<{ raw: AIMessage; reply: Reply }> => {
    if (mode === 'json-schema') {
      const reply = await chat.invoke(messages, {
        signal,
        response_format: {
          type: 'json_schema',
          json_schema: { name: 'plan_answer', schema: answerSchema(ctx.catalog, ctx.inventory) },
        },
      });
      return { raw: reply, reply: readJsonReply(reply) };
    }
    const withTools = chat.bindTools(
      [
        {
          type: 'function',
          function: {
            name: SUBMIT,
            description: 'Submit the plan: steps that each name one catalog tool, its params and its targets.',
            parameters: planSchema(ctx.catalog, ctx.inventory),
          },
        },
        {
          type: 'function',
          function: {
            name: REFUSE,
            description: 'Say that the request cannot be planned with the catalog, naming the closest tools.',
            parameters: refusalSchema(ctx.catalog),
          },
        },
      ],
      { tool_choice: 'required' },
    );
    const raw = (await withTools.invoke(messages, { signal })) as AIMessage;
    return { raw, reply: readToolReply(raw) };
  };

  return {
    name: 'langchain',
    async plan(ctx: PlannerContext): Promise<PlannerAnswer> {
      const signal = AbortSignal.timeout(options.timeoutMs);
      const messages: BaseMessage[] = [
        new SystemMessage(systemPrompt(ctx.catalog, ctx.inventory)),
        new HumanMessage(ctx.request),
      ];
      let lastProblem = 'no answer';
      let repairs = 0;
      for (let attempt = 0; attempt <= options.maxRepairs; attempt++) {
        let reply: Reply;
        try {
          const answered = await ask(ctx, messages, signal);
          reply = answered.reply;
          if (!(reply.kind === 'problem' && reply.noCall && mayFallBack && mode === 'tools'))
            messages.push(answered.raw);
        } catch (err) {
          // A server without function calling says so with a 4xx; `auto` asks it the other way.
          const status = (err as { status?: number }).status;
          if (
            mode === 'tools' &&
            mayFallBack &&
            status !== undefined &&
            status >= 400 &&
            status < 500 &&
            status !== 401
          ) {
            mode = 'json-schema';
            attempt--;
            continue;
          }
          throw err;
        }
        if (reply.kind === 'problem' && reply.noCall && mayFallBack && mode === 'tools') {
          mode = 'json-schema';
          attempt--;
          continue;
        }
        if (reply.kind === 'problem') {
          lastProblem = reply.problem;
          messages.push(reply.feedback);
          repairs++;
          continue;
        }
        if (reply.kind === 'refusal') {
          const refusal = RefusalArgs.safeParse(reply.args);
          if (refusal.success)
            return {
              kind: 'refusal',
              message: refusal.data.message,
              closestTools: refusal.data.closestTools.filter((t) => ctx.catalog.get(t)),
            };
          lastProblem = 'the refusal does not match its schema';
          messages.push(reply.feedback(`${lastProblem}: ${refusal.error.message}`));
          repairs++;
          continue;
        }
        const draft = draftOf(reply.args, ctx.request);
        const validation = await ctx.validate(draft);
        if (validation.status === 'ready' || validation.status === 'needs-input') {
          return {
            kind: 'plan',
            draft: validation.draft ?? PlanDraft.parse(draft),
            notes: repairs ? [`the model's plan was repaired after ${repairs} round(s) of validation errors`] : [],
          };
        }
        lastProblem = `the plan does not validate:\n${describeIssues(validation.issues)}`;
        messages.push(
          reply.feedback(`${lastProblem}\nFix these and answer again, using only the catalog's tools and parameters.`),
        );
        repairs++;
      }
      throw new Error(`no valid plan after ${options.maxRepairs} repair(s): ${lastProblem}`);
    },
  };
};
