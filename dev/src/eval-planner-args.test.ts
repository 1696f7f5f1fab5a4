import { describe, expect, it } from 'vitest';
import { parseEvalPlannerArgs, UsageError } from './eval-planner-args.js';

describe('npm run eval:planner flags', () => {
  it('defaults to the built-in planner over the whole corpus', () => {
    expect(parseEvalPlannerArgs([], {})).toEqual({
      planner: 'builtin',
      llm: null,
      local: false,
      sample: null,
      seed: 18,
      category: null,
      json: false,
      verbose: false,
      minScore: null,
    });
  });

  it('takes the LLM options from flags or the OpenAI variables; a local server needs no key', () => {
    const a = parseEvalPlannerArgs(
      [
        '--planner',
        'llm',
        '--base-url',
        'http://127.0.0.1:8080/v1',
        '--model',
        'qwen',
        '--sample',
        '40',
        '--max-repairs',
        '1',
      ],
      {},
    );
    expect(a.llm).toEqual({
      apiKey: 'not-needed',
      baseURL: 'http://127.0.0.1:8080/v1',
      model: 'qwen',
      timeoutMs: 300_000,
      maxRepairs: 1,
      mode: 'auto',
    });
    expect(a.sample).toBe(40);
    const b = parseEvalPlannerArgs(['--planner', 'llm', '--timeout-seconds', '30'], {
      OPENAI_API_KEY: 'k',
      OPENAI_MODEL: 'gpt-x',
    });
    expect(b.llm).toEqual({ apiKey: 'k', model: 'gpt-x', timeoutMs: 30_000, maxRepairs: 2, mode: 'auto' });
  });

  it('--local starts the local server itself, asked in structured output; --mode chooses the way', () => {
    const local = parseEvalPlannerArgs(['--planner', 'llm', '--local', '--sample', '20'], {});
    expect(local).toMatchObject({ local: true, sample: 20, llm: { mode: 'json-schema', maxRepairs: 2 } });
    const tools = parseEvalPlannerArgs(['--planner', 'llm', '--model', 'm', '--api-key', 'k', '--mode', 'tools'], {});
    expect(tools.llm?.mode).toBe('tools');
    expect(() => parseEvalPlannerArgs(['--local'], {})).toThrow(/^--local is for --planner llm$/);
    expect(() => parseEvalPlannerArgs(['--planner', 'llm', '--local', '--model', 'm'], {})).toThrow(/^--local starts/);
    expect(() => parseEvalPlannerArgs(['--planner', 'llm', '--mode', 'xml'], {})).toThrow(/^--mode: expected/);
  });

  it('names the flag that is wrong', () => {
    const bad =
      (argv: string[], env: NodeJS.ProcessEnv = {}) =>
      () =>
        parseEvalPlannerArgs(argv, env);
    expect(bad(['--planner', 'gpt'])).toThrow(/^--planner: expected builtin or llm, got "gpt"$/);
    expect(bad(['--category', 'nope'])).toThrow(/^--category: expected one of seed-scenarios, /);
    expect(bad(['--sample', '0'])).toThrow(/^--sample: expected a whole number from 1/);
    expect(bad(['--min-score', '1.5'])).toThrow(/^--min-score: expected a number from 0 to 1, got "1.5"$/);
    expect(bad(['--planner', 'llm', '--api-key', 'k'])).toThrow(/^--model: /);
    expect(bad(['--planner', 'llm', '--model', 'm'])).toThrow(/^--api-key: /);
    expect(bad(['--planner', 'llm', '--model', 'm', '--base-url', 'ftp://x'])).toThrow(/^--base-url: /);
    expect(bad(['--model', 'm'])).toThrow(/are for --planner llm/);
    expect(bad(['--bogus'])).toThrow(UsageError);
    expect(bad(['--min-score', '0.9'])()).toMatchObject({ minScore: 0.9 });
  });
});
