import express, { type Express } from 'express';
import { ErrorType } from '@opsc/contracts';
import type { ApiDeps } from './api/deps.js';
import { ApiFailure, errorHandler } from './api/errors.js';
import { healthRouter } from './api/health.js';
import { openApiRouter } from './api/openapi-route.js';
import { jobsRouter } from './api/jobs.js';
import { templatesRouter } from './api/template-routes.js';
import { hooksRouter } from './api/hook-routes.js';
import { triggersRouter } from './api/trigger-routes.js';
import { schedulesRouter } from './api/schedule-routes.js';
import { authenticate } from './api/auth.js';
import { identityRouter } from './api/identity-routes.js';
import { inventoryRouter } from './api/inventory-routes.js';
import { credentialsRouter } from './api/credential-routes.js';
import { auditRouter } from './api/audit-routes.js';
import { plansRouter, toolsRouter } from './api/plan-routes.js';
import { egressRouter } from './api/egress-routes.js';
import { artifactsRouter } from './api/artifact-routes.js';
import { notificationsRouter } from './api/notification-routes.js';
import { jsonOnly } from './api/json-only.js';
import { safeInput } from './api/safe-input.js';
import { sameOriginMutations } from './api/same-origin.js';
import { untilReady } from './api/readiness.js';
import { requestLog } from './api/request-log.js';
import { apiMetrics } from './metrics/api-metrics.js';
import { requestSpans } from '@opsc/telemetry/tracing';

export type { ApiDeps } from './api/deps.js';

/** `/api/jobs/:id/approve`, never the path with its ids; undefined when no route matched. */
const routePattern = (req: unknown): string | undefined => {
  const { route, baseUrl } = req as express.Request;
  if (!route) return undefined;
  const pattern = String((route as { path: unknown }).path);
  return pattern === '/' && baseUrl ? baseUrl : `${baseUrl}${pattern}`;
};

/** The HTTP API: validated input in, job state out. It starts workflows; it never executes anything. */
export const createApp = (deps: ApiDeps): Express => {
  const app = express();
  app.disable('x-powered-by');
  // Behind the web app's server the audit log and the sign-in limits see the browser, not the proxy.
  app.set('trust proxy', deps.trustProxy);
  // First: every request has its id in the log context, and one access line, whatever answers it.
  app.use(requestLog(deps.log));
  if (deps.metrics) app.use(apiMetrics(deps.metrics.apiDuration));
  // The edge, in this order: where a cookie request comes from, then what its body is, then what
  // its text is. Every route below sees a same-origin (or token) request with clean JSON.
  app.use(sameOriginMutations(deps.allowedOrigins));
  app.use(jsonOnly);
  // Trigger deliveries read their body raw: the signature covers its bytes.
  app.use('/api/hooks', untilReady(deps.readiness), hooksRouter(deps));
  app.use(express.json({ limit: '1mb' }));
  app.use(safeInput);
  app.use('/api/health', healthRouter(deps));
  app.use('/api/openapi.json', openApiRouter());
  // Traces (docs/tracing.md): a span per request, named by its route pattern. After the body is read:
  // the parser's stream events would lose the span's context.
  if (deps.traceRequests) app.use(requestSpans(routePattern));
  app.use(untilReady(deps.readiness));
  app.use('/api/jobs', authenticate(deps), jobsRouter(deps));
  app.use('/api/templates', authenticate(deps), templatesRouter(deps));
  app.use('/api/triggers', authenticate(deps), triggersRouter(deps));
  app.use('/api/schedules', authenticate(deps), schedulesRouter(deps));
  app.use('/api/inventory', authenticate(deps), inventoryRouter(deps));
  app.use('/api/credentials', authenticate(deps), credentialsRouter(deps));
  app.use('/api/audit', authenticate(deps), auditRouter(deps));
  app.use('/api/plans', authenticate(deps), plansRouter(deps));
  app.use('/api/tools', authenticate(deps), toolsRouter(deps));
  app.use('/api/tenant/egress', authenticate(deps), egressRouter(deps));
  app.use('/api/artifacts', authenticate(deps), artifactsRouter(deps));
  app.use('/api/notifications', authenticate(deps), notificationsRouter(deps));
  app.use('/api', identityRouter(deps));
  app.use((req, _res, next) => next(new ApiFailure(ErrorType.NotFound, `no route ${req.method} ${req.path}`)));
  app.use(errorHandler(deps.log));
  return app;
};
