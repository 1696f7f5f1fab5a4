import type pg from 'pg';
import type { OrchestratorActivities } from '@opsc/contracts';
import { createRecordJobStatus, createRecordStepResults } from './job-records.js';

export interface PlanningDeps {
  pool: pg.Pool;
}

/** The orchestrator's activities: bookkeeping and planning only, never execution. */
export const createOrchestratorActivities = (deps: PlanningDeps) =>
  ({
    recordJobStatus: createRecordJobStatus(deps.pool),
    recordStepResults: createRecordStepResults(deps.pool),
  }) satisfies OrchestratorActivities;
