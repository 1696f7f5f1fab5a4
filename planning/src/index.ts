/**
 * The planner, a library the orchestrator's API calls in-process (never a Temporal activity): the
 * tool catalog, the built-in and LangChain planners, and the one validator every plan goes through.
 */
export {
  BUILTIN_TOOLS_DIR,
  loadCatalog,
  localProgramOf,
  parseToolFile,
  ToolCatalog,
  ToolCatalogError,
} from './catalog/index.js';
export {
  validatePlan,
  TargetResolutionError,
  type PlanValidation,
  type PlanningContext,
  type TargetResolver,
} from './validate/validate-plan.js';
export { pinArtifacts, type ArtifactLookup } from './validate/pin-artifacts.js';
export { assessExecutablePlan, type ExecutableAssessment } from './validate/validate-executable.js';
export { builtinPlan, type PlannerAnswer, type PlannerRequest } from './builtin/builtin-planner.js';
export type { InventorySketch } from './builtin/entities.js';
export { proposePlan, type Planner, type PlannerContext, type ProposeDeps } from './propose.js';
export { createLangChainPlanner, type LangChainPlannerOptions, type LlmMode } from './langchain/langchain-planner.js';
export { PHRASINGS, SEED_REQUESTS } from './builtin/phrasings.js';
export {
  CATEGORIES,
  CorpusError,
  EVAL_CORPUS_DIR,
  EVAL_INVENTORY,
  failureLines,
  formatReport,
  loadCorpus,
  resolveEvalTargets,
  runEval,
  stratifiedSample,
  summarize,
  type CaseResult,
  type Category,
  type EvalCase,
  type EvalSummary,
} from './eval/index.js';
