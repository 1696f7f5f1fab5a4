import type pg from 'pg';
import type { OrchestratorActivities } from '@opsc/contracts';
import { createEstimateSteps, createRecordJobEvent, createRecordJobStatus, createRecordStepResults } from './job-records.js';
import { createConfirmDecision, createRefuseDecision } from './job-decisions.js';
import { createConfirmJob } from './job-start.js';

export { BUILTIN_TOOLS_DIR, loadCatalog, parseToolFile, ToolCatalog, ToolCatalogError } from './catalog/index.js';
export { validatePlan, TargetResolutionError, type PlanValidation, type PlanningContext, type TargetResolver } from './validate/validate-plan.js';
export { assessExecutablePlan, type ExecutableAssessment } from './validate/validate-executable.js';
export { builtinPlan, type PlannerAnswer, type PlannerRequest } from './builtin/builtin-planner.js';
export type { InventorySketch } from './builtin/entities.js';
export { proposePlan, type Planner, type PlannerContext, type ProposeDeps } from './propose.js';

export interface PlanningDeps {
  pool: pg.Pool;
}

/** The orchestrator's activities: bookkeeping and planning only, never execution. */
export const createOrchestratorActivities = (deps: PlanningDeps) =>
  ({
    recordJobStatus: createRecordJobStatus(deps.pool),
    recordStepResults: createRecordStepResults(deps.pool),
    recordJobEvent: createRecordJobEvent(deps.pool),
    confirmDecision: createConfirmDecision(deps.pool),
    refuseDecision: createRefuseDecision(deps.pool),
    confirmJob: createConfirmJob(deps.pool),
    estimateSteps: createEstimateSteps(deps.pool),
  }) satisfies OrchestratorActivities;
export { createLangChainPlanner, type LangChainPlannerOptions } from './langchain/langchain-planner.js';
export { PHRASINGS, SEED_REQUESTS } from './builtin/phrasings.js';
