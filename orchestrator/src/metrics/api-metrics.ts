import type { RequestHandler } from 'express';
import type { Histogram } from 'prom-client';

/** HTTP methods kept as they are; any other becomes `other`. */
const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

/**
 * Times each API request by method, route pattern and status. The route is the Express pattern
 * that answered (`/api/jobs/:id`), noted when the router picks it (a response sent later, from the
 * error handler, still knows it); a request no route took is `unmatched`. Ids and paths people
 * type never become a label.
 */
export const apiMetrics =
  (duration: Histogram<'method' | 'route' | 'status'>): RequestHandler =>
  (req, res, next) => {
    const stop = duration.startTimer();
    let route: string | undefined;
    let current: unknown;
    // Another middleware (the access log) may note the route the same way: its setter still runs.
    const prior = Object.getOwnPropertyDescriptor(req, 'route');
    Object.defineProperty(req, 'route', {
      configurable: true,
      enumerable: true,
      get: () => (prior?.get ? prior.get.call(req) : current),
      set(value: { path?: unknown } | undefined) {
        prior?.set?.call(req, value);
        current = value;
        if (value && typeof value.path === 'string')
          route = value.path === '/' && req.baseUrl ? req.baseUrl : `${req.baseUrl}${value.path}`;
      },
    });
    res.once('close', () => {
      stop({
        method: METHODS.has(req.method) ? req.method : 'other',
        route: route ?? 'unmatched',
        status: String(res.statusCode),
      });
    });
    next();
  };
