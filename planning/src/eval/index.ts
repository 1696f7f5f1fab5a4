/**
 * The planner evaluation: a corpus of operator requests with what a correct answer must contain,
 * a fixture inventory, and a scorer that runs any planner through `proposePlan` and the validator.
 */
export { CATEGORIES, CorpusError, EVAL_CORPUS_DIR, loadCorpus, parseCorpusFile } from './corpus.js';
export type { Category, EvalCase, Expectation } from './corpus.js';
export { EVAL_GROUPS, EVAL_INVENTORY, EVAL_SINGLES, EVAL_TARGETS, evalEgress, resolveEvalTargets } from './fixture.js';
export { observe, type Observed } from './observe.js';
export { scoreCase, scoreExpectation, type CaseScore, type InventoryIndex, type Verdict } from './score.js';
export {
  EVAL_INDEX,
  percentile,
  runCase,
  runEval,
  stratifiedSample,
  summarize,
  type CaseResult,
  type EvalOptions,
  type EvalSummary,
  type Tally,
} from './run-eval.js';
export { failureLines, formatReport } from './report.js';
