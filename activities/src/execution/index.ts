import type { ExecutorActivities } from '@opsc/contracts';
import type { ExecutionDeps } from './deps.js';
import { createSendHttpRequest } from './http-request.js';
import { createRunLocalCommand } from './local-command.js';

export type { ExecutionDeps, ExecutionLimits } from './deps.js';
export { createPgOutputStore, type OutputStore, type ExecutionRecord } from './output-store.js';

/** The executor's activities, checked against the contract the workflows proxy. */
export const createExecutionActivities = (deps: ExecutionDeps) =>
  ({
    runLocalCommand: createRunLocalCommand(deps),
    sendHttpRequest: createSendHttpRequest(deps),
  }) satisfies ExecutorActivities;
