import { parseArgs } from 'node:util';
import { CATEGORIES, type Category } from '@opsc/planning';

/** What `npm run eval:planner -- ...` was asked to do. */
export interface EvalPlannerArgs {
  planner: 'builtin' | 'llm';
  llm: { apiKey: string; baseURL?: string; model: string; timeoutMs: number; maxRepairs: number } | null;
  sample: number | null;
  seed: number;
  category: Category | null;
  json: boolean;
  verbose: boolean;
  minScore: number | null;
}

/** A bad flag: the message names it. */
export class UsageError extends Error {}

export const USAGE = `npm run eval:planner -- [--planner builtin|llm] [--base-url URL] [--model M] [--api-key K]
    [--timeout-seconds S] [--max-repairs N] [--sample N] [--seed N] [--category C] [--json] [--verbose]
    [--min-score S]
  --planner llm talks to any OpenAI-compatible server (OPENAI_BASE_URL, OPENAI_MODEL, OPENAI_API_KEY are
  the defaults); a local server that takes any key needs no --api-key.`;

const number = (flag: string, text: string | undefined, min: number, max: number, integer = true): number | null => {
  if (text === undefined) return null;
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || Number.isNaN(n) || n < min || n > max || (integer && !Number.isInteger(n)))
    throw new UsageError(
      `--${flag}: expected ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, got "${text}"`,
    );
  return n;
};

/** Parses the command line; `env` gives the LLM defaults. Throws a UsageError naming the flag. */
export const parseEvalPlannerArgs = (argv: string[], env: NodeJS.ProcessEnv): EvalPlannerArgs => {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        planner: { type: 'string', default: 'builtin' },
        'base-url': { type: 'string' },
        model: { type: 'string' },
        'api-key': { type: 'string' },
        'timeout-seconds': { type: 'string' },
        'max-repairs': { type: 'string' },
        sample: { type: 'string' },
        seed: { type: 'string' },
        category: { type: 'string' },
        json: { type: 'boolean', default: false },
        verbose: { type: 'boolean', default: false },
        'min-score': { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) throw new UsageError('');
  const planner = values.planner;
  if (planner !== 'builtin' && planner !== 'llm')
    throw new UsageError(`--planner: expected builtin or llm, got "${planner}"`);
  const category = values.category ?? null;
  if (category !== null && !(CATEGORIES as readonly string[]).includes(category))
    throw new UsageError(`--category: expected one of ${CATEGORIES.join(', ')}, got "${category}"`);
  let llm: EvalPlannerArgs['llm'] = null;
  if (planner === 'llm') {
    const baseURL = values['base-url'] ?? env.OPENAI_BASE_URL;
    const model = values.model ?? env.OPENAI_MODEL;
    if (!model) throw new UsageError('--model: the LLM planner needs a model name (or OPENAI_MODEL)');
    const apiKey = values['api-key'] ?? env.OPENAI_API_KEY ?? (baseURL ? 'not-needed' : undefined);
    if (!apiKey) throw new UsageError('--api-key: needed without --base-url (or set OPENAI_API_KEY)');
    if (baseURL !== undefined && !/^https?:\/\/[^\s]+$/.test(baseURL))
      throw new UsageError(`--base-url: expected an http(s) URL, got "${baseURL}"`);
    llm = {
      apiKey,
      ...(baseURL && { baseURL }),
      model,
      timeoutMs: (number('timeout-seconds', values['timeout-seconds'], 1, 3_600) ?? 300) * 1000,
      maxRepairs: number('max-repairs', values['max-repairs'], 0, 5) ?? 2,
    };
  } else if (values['base-url'] || values.model || values['api-key'])
    throw new UsageError('--base-url, --model and --api-key are for --planner llm');
  return {
    planner,
    llm,
    sample: number('sample', values.sample, 1, 100_000),
    seed: number('seed', values.seed, 0, 2 ** 31) ?? 18,
    category: category as Category | null,
    json: values.json,
    verbose: values.verbose,
    minScore: number('min-score', values['min-score'], 0, 1, false),
  };
};
