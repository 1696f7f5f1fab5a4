import express, { type Express } from 'express';
import { ErrorType } from '@opsc/contracts';
import type { ApiDeps } from './api/deps.js';
import { ApiFailure, errorHandler } from './api/errors.js';
import { healthRouter } from './api/health.js';
import { jobsRouter } from './api/jobs.js';

export type { ApiDeps } from './api/deps.js';

/** The HTTP API: validated input in, job state out. It starts workflows; it never executes anything. */
export const createApp = (deps: ApiDeps): Express => {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '1mb' }));
  app.use('/api/health', healthRouter(deps));
  app.use('/api/jobs', jobsRouter(deps));
  app.use((req, _res, next) => next(new ApiFailure(ErrorType.NotFound, `no route ${req.method} ${req.path}`)));
  app.use(errorHandler(deps.log));
  return app;
};
