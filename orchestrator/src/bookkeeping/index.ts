import type { Client } from '@temporalio/client';
import type pg from 'pg';
import type { OrchestratorActivities } from '@opsc/contracts';
import { createRecordJobEvent, createRecordJobStatus, createRecordStepResults } from './job-records.js';
import { createEstimateSteps } from './job-estimates.js';
import { createConfirmDecision, createRefuseDecision } from './job-decisions.js';
import { createConfirmJob } from './job-start.js';
import { createNotificationChannels, createStartNotification } from './notification-channels.js';
import type { OrchestratorMetrics } from '../metrics/orchestrator-metrics.js';

/**
 * The activities of the `orchestrator` queue, which its workflows schedule: bookkeeping of the job's
 * record in PostgreSQL (status, results, events, ETA figures) and the checks that a start or a
 * decision is the one the API recorded. Nothing here plans or executes.
 */
export const createBookkeepingActivities = (deps: { pool: pg.Pool; client: Client; metrics?: OrchestratorMetrics }) =>
  ({
    recordJobStatus: createRecordJobStatus(deps.pool, deps.metrics),
    recordStepResults: createRecordStepResults(deps.pool, deps.metrics),
    recordJobEvent: createRecordJobEvent(deps.pool),
    confirmDecision: createConfirmDecision(deps.pool),
    refuseDecision: createRefuseDecision(deps.pool),
    confirmJob: createConfirmJob(deps.pool),
    estimateSteps: createEstimateSteps(deps.pool),
    notificationChannels: createNotificationChannels(deps.pool),
    startNotification: createStartNotification(deps.client),
  }) satisfies OrchestratorActivities;
