import { randomUUID } from 'node:crypto';
import { AsyncResource } from 'node:async_hooks';
import type { Request, RequestHandler } from 'express';
import { withLogContext, type Logger } from '@opsc/telemetry';

/** An incoming X-Request-Id is kept only when it is this tame; anything else gets a fresh one. */
export const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Routes polled often (health checks) are logged at debug only. */
const QUIET = /^\/api\/health(\/|$)/;

/**
 * The route's pattern (`/api/jobs/:id`), never the path itself: no ids, no query string. It is taken
 * when the router matches (the router sets `req.route`), because once an error leaves a mounted
 * router `req.baseUrl` no longer names its mount point.
 */
const capturePattern = (req: Request): (() => string | undefined) => {
  let pattern: string | undefined;
  let route: unknown;
  Object.defineProperty(req, 'route', {
    configurable: true,
    enumerable: true,
    get: () => route,
    set: (value: { path?: unknown } | undefined) => {
      route = value;
      if (value && typeof value.path === 'string')
        pattern = value.path === '/' && req.baseUrl ? req.baseUrl : `${req.baseUrl}${value.path}`;
    },
  });
  return () => pattern;
};

/**
 * Gives each request a request id (echoed in `X-Request-Id`) in the log context of everything it
 * logs, and writes one access line when it ends: method, route pattern, status and duration.
 */
export const requestLog =
  (log: Logger): RequestHandler =>
  (req, res, next) => {
    const incoming = req.get('x-request-id');
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    const pattern = capturePattern(req);
    withLogContext({ requestId }, () => {
      // Bound to this request's log context: the tenant, once authenticated, is in it by then.
      const done = AsyncResource.bind((aborted: boolean) => {
        const fields = {
          method: req.method,
          route: pattern() ?? (res.statusCode === 404 ? '(no route)' : '(unmatched)'),
          status: aborted ? 499 : res.statusCode,
          ms: Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10,
          ...(aborted && { aborted: true }),
        };
        if (QUIET.test(req.originalUrl)) log.debug('request', fields);
        else log.info('request', fields);
      });
      let ended = false;
      res.once('finish', () => {
        ended = true;
        done(false);
      });
      res.once('close', () => {
        if (!ended) done(true);
      });
      next();
    });
  };
