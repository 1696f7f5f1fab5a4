import type { ApiRoute } from './route.js';
import { ACCESS_ROUTES } from './routes-access.js';
import { ARTIFACT_ROUTES } from './routes-artifacts.js';
import { INVENTORY_ROUTES } from './routes-inventory.js';
import { JOB_ROUTES } from './routes-jobs.js';
import { TEMPLATE_ROUTES } from './routes-templates.js';
import { NOTIFICATION_ROUTES } from './routes-notifications.js';
import { TRIGGER_ROUTES } from './routes-triggers.js';
import { SCHEDULE_ROUTES } from './routes-schedules.js';

export { errorsOf, type AnswerBody, type ApiRoute } from './route.js';

/**
 * Every route of the HTTP API. The orchestrator registers exactly these (a test reads its router),
 * and the OpenAPI document and the Markdown reference are generated from them.
 */
export const API_ROUTES: readonly ApiRoute[] = [
  ...ACCESS_ROUTES,
  ...JOB_ROUTES,
  ...TEMPLATE_ROUTES,
  ...TRIGGER_ROUTES,
  ...SCHEDULE_ROUTES,
  ...INVENTORY_ROUTES,
  ...ARTIFACT_ROUTES,
  ...NOTIFICATION_ROUTES,
];
