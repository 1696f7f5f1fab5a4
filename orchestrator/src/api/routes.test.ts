import { describe, expect, it } from 'vitest';
import type { Express } from 'express';
import { API_ROUTES } from '@opsc/contracts/api';
import { createApp, type ApiDeps } from '../app.js';
import { Readiness } from './readiness.js';

interface Layer {
  rawPath?: unknown;
  route?: { path: unknown; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
}

/** Every `METHOD /path` the router serves, its mount paths joined: read from express's router stack. */
const registered = (stack: readonly Layer[], prefix = ''): string[] =>
  stack.flatMap((layer) => {
    if (layer.route) {
      const path = `${prefix}${layer.route.path === '/' ? '' : String(layer.route.path)}` || '/';
      return Object.keys(layer.route.methods).map((method) => `${method.toUpperCase()} ${path}`);
    }
    if (!layer.handle.stack) return [];
    const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
    return registered(layer.handle.stack, `${prefix}${mount}`);
  });

/** The app as main.ts builds it; building it touches none of its dependencies. */
const app = (): Express =>
  createApp({
    client: {},
    pool: {},
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    namespace: 'default',
    jobOptions: {},
    planning: { catalog: {} },
    platformServices: [],
    identity: {
      signIn: {
        lockout: { threshold: 5, seconds: 60, maxSeconds: 3600 },
        source: { maxFailures: 20, windowSeconds: 60 },
        maxConcurrentHashes: 2,
      },
      tokenDefaultDays: 90,
    },
    allowedOrigins: [],
    artifactMaxBytes: 1024,
    artifactTenantMaxBytes: 4096,
    trustProxy: 'loopback',
    eventStreams: {},
    readiness: new Readiness('start-up'),
    triggers: { key: undefined, bodyLimitBytes: 1024, deliveriesPerMinute: 1, sourceMaxFailures: 1 },
    schedules: { minIntervalSeconds: 60 },
  } as unknown as ApiDeps);

describe('the route table of @opsc/contracts/api', () => {
  it('lists exactly the routes the orchestrator registers', () => {
    const stack = (app() as unknown as { router: { stack: Layer[] } }).router.stack;
    const served = registered(stack).sort();
    expect(served.length).toBeGreaterThan(40);
    const listed = API_ROUTES.map((r) => `${r.method} ${r.path}`).sort();
    expect(
      served,
      'orchestrator routes and API_ROUTES (contracts/src/api/routes.ts) differ: change both, then run `npm run docs:api`',
    ).toEqual(listed);
  });

  it('lists each route once', () => {
    const listed = API_ROUTES.map((r) => `${r.method} ${r.path}`);
    expect(new Set(listed).size).toBe(listed.length);
  });
});
