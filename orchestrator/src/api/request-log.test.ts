import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addLogContext, createLogger } from '@opsc/telemetry';
import { requestLog } from './request-log.js';

describe('requestLog', () => {
  const lines: Record<string, unknown>[] = [];
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const log = createLogger('orchestrator', 'debug', { write: (l) => lines.push(JSON.parse(l) as never) });
    const app = express();
    app.use(requestLog(log));
    const things = express.Router();
    things.get('/', (_req, res) => void res.json([]));
    things.get('/:id', async (req, res) => {
      await new Promise((r) => setTimeout(r, 2));
      log.info('looked up', { id: req.params.id });
      res.json({ id: req.params.id });
    });
    things.post('/:id/fail', () => {
      throw new Error('broken');
    });
    app.use(
      '/api/things',
      (_req, _res, next) => {
        addLogContext({ tenantId: 'tenant-1' });
        next();
      },
      things,
    );
    app.get('/api/health', (_req, res) => void res.json({ ok: true }));
    app.use((_req, res) => void res.status(404).json({}));
    app.use((_err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).json({});
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const access = async (path: string, init: RequestInit = {}) => {
    const before = lines.length;
    const res = await fetch(`${base}${path}`, init);
    await res.text();
    await expect.poll(() => lines.slice(before).some((l) => l.msg === 'request')).toBe(true);
    return { res, lines: lines.slice(before) };
  };

  it("keeps a tame X-Request-Id, echoes it, and puts it and the tenant on the request's lines", async () => {
    const { res, lines: out } = await access('/api/things/42?secret=x', { headers: { 'x-request-id': 'abc.DEF_1-2' } });
    expect(res.headers.get('x-request-id')).toBe('abc.DEF_1-2');
    expect(out.find((l) => l.msg === 'looked up')).toMatchObject({ requestId: 'abc.DEF_1-2', tenantId: 'tenant-1' });
    const line = out.find((l) => l.msg === 'request');
    expect(line).toMatchObject({
      level: 'info',
      requestId: 'abc.DEF_1-2',
      tenantId: 'tenant-1',
      method: 'GET',
      route: '/api/things/:id',
      status: 200,
      ms: expect.any(Number),
    });
    expect(JSON.stringify(out)).not.toContain('secret=x');
  });

  it.each(['', 'has space', 'a'.repeat(65), 'x/../y', 'ü'])('replaces the request id %j with a new one', async (id) => {
    const { res, lines: out } = await access('/api/things', id ? { headers: { 'x-request-id': id } } : {});
    const echoed = res.headers.get('x-request-id');
    expect(echoed).toMatch(/^[0-9a-f-]{36}$/);
    expect(out.find((l) => l.msg === 'request')).toMatchObject({ requestId: echoed, route: '/api/things' });
  });

  it('names the pattern of a route that failed, no route for a 404, and health at debug', async () => {
    const failed = await access('/api/things/7/fail', { method: 'POST' });
    expect(failed.lines.find((l) => l.msg === 'request')).toMatchObject({
      route: '/api/things/:id/fail',
      status: 500,
    });
    const missing = await access('/nowhere/123');
    expect(missing.lines.find((l) => l.msg === 'request')).toMatchObject({ route: '(no route)', status: 404 });
    const health = await access('/api/health');
    expect(health.lines.find((l) => l.msg === 'request')).toMatchObject({ level: 'debug', route: '/api/health' });
  });
});
