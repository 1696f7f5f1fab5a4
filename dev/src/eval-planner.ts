/**
 * `npm run eval:planner -- [--planner builtin|llm] [--base-url URL --model M --api-key K] [--sample N]
 * [--category C] [--json] [--verbose] [--min-score S]`: runs the planner evaluation corpus
 * (planning/eval/corpus) through the real proposePlan and validator, against the corpus's fixture
 * inventory, and prints pass / partial / fail per category, the overall score and latency p50/p95.
 * Exit code 0 unless --min-score is given and not met (1), or the flags are wrong (2).
 */
import {
  BUILTIN_TOOLS_DIR,
  createLangChainPlanner,
  failureLines,
  formatReport,
  loadCatalog,
  loadCorpus,
  runEval,
  stratifiedSample,
  summarize,
} from '@opsc/planning';
import { parseEvalPlannerArgs, USAGE, UsageError } from './eval-planner-args.js';

let args;
try {
  args = parseEvalPlannerArgs(process.argv.slice(2), process.env);
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  if (err.message) process.stderr.write(`${err.message}\n`);
  process.stderr.write(`${USAGE}\n`);
  process.exit(err.message ? 2 : 0);
}

const catalog = await loadCatalog([BUILTIN_TOOLS_DIR]);
const corpus = await loadCorpus();
const chosen = args.category ? corpus.filter((c) => c.category === args.category) : corpus;
const cases = args.sample ? stratifiedSample(chosen, args.sample, args.seed) : chosen;
const llm = args.llm ? createLangChainPlanner(args.llm) : undefined;
const name = args.llm ? `llm (${args.llm.model}${args.llm.baseURL ? ` at ${args.llm.baseURL}` : ''})` : 'built-in';
process.stderr.write(`planner: ${name}; ${cases.length} of ${corpus.length} cases\n`);

const results = await runEval(cases, {
  catalog,
  ...(llm && { llm }),
  onCase: (r, done, total) => {
    // A model takes seconds per case: show progress. The built-in planner is done in a blink.
    if (llm || args.verbose)
      process.stderr.write(`[${done}/${total}] ${r.verdict.padEnd(7)} ${r.category}/${r.id} ${r.ms.toFixed(0)} ms\n`);
  },
});
const summary = summarize(results);
if (args.json) {
  const model = args.llm && { model: args.llm.model, ...(args.llm.baseURL && { baseURL: args.llm.baseURL }) };
  process.stdout.write(`${JSON.stringify({ planner: args.planner, ...model, summary, results }, null, 2)}\n`);
} else {
  process.stdout.write(`${formatReport(summary, results, args.verbose)}\n`);
  if (llm) {
    const fellBack = results.filter((r) => r.planner !== 'langchain').length;
    if (fellBack) process.stdout.write(`the LLM did not answer ${fellBack} case(s): the built-in planner did\n`);
  }
}
if (args.minScore !== null && summary.overall.score < args.minScore) {
  process.stderr.write(
    `score ${summary.overall.score.toFixed(3)} is below --min-score ${args.minScore}\n${failureLines(results).join('\n')}\n`,
  );
  process.exit(1);
}
