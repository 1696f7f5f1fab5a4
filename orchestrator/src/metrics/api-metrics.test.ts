import type { AddressInfo } from 'node:net';
import express from 'express';
import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { apiMetrics } from './api-metrics.js';

describe('API latency labels', () => {
  it('labels requests by route pattern (even when the error handler answers), unmatched otherwise', async () => {
    const registry = new Registry();
    const duration = new Histogram({
      name: 'opsc_api_request_duration_seconds',
      help: 'test',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
    });
    const app = express();
    // Another middleware noting the route the same way (the access log) still sees it.
    const noted: string[] = [];
    app.use((req, _res, next) => {
      let route: unknown;
      Object.defineProperty(req, 'route', {
        configurable: true,
        get: () => route,
        set: (value: { path: string }) => {
          route = value;
          noted.push(`${req.baseUrl}${value.path}`);
        },
      });
      next();
    });
    app.use(apiMetrics(duration));
    const jobs = express.Router();
    jobs.get('/', (_req, res) => void res.json([]));
    jobs.get('/:id', (req, _res, next) => next(new Error(`no job ${req.params.id}`)));
    app.use('/api/jobs', jobs);
    app.use((_req, res) => void res.status(404).json({}));
    app.use((_err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(404).json({});
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await (await fetch(`${base}/api/jobs`)).text();
      await (await fetch(`${base}/api/jobs/job-1234`)).text();
      await (await fetch(`${base}/api/secret-host-name/x`)).text();
      await (await fetch(`${base}/api/jobs/job-1234`, { method: 'PROPFIND' })).text();
      const seen = (await registry.metrics())
        .split('\n')
        .filter((l) => l.startsWith('opsc_api_request_duration_seconds_count'))
        .map((l) => {
          const [, method, route, status, n] = /method="(.*?)",route="(.*?)",status="(.*?)"\} (\d+)/.exec(l)!;
          return `${method} ${route} ${status} ${n}`;
        })
        .sort();
      expect([...new Set(noted)]).toEqual(['/api/jobs/', '/api/jobs/:id']);
      expect(seen).toEqual([
        'GET /api/jobs 200 1',
        'GET /api/jobs/:id 404 1',
        'GET unmatched 404 1',
        'other unmatched 404 1',
      ]);
    } finally {
      server.close();
    }
  });
});
