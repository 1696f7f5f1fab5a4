import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from './log.js';
import { startTracing } from './tracing.js';

// A collector that refuses every batch (400: not retried), real HTTP on loopback. Its own file: the
// SDK registers its provider once per process.
let server: Server;
let batches = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume().on('end', () => {
      batches++;
      res.writeHead(400, { 'content-type': 'text/plain' }).end('no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterAll(() => new Promise((resolve) => server.close(resolve)));

describe('spans the collector does not take', () => {
  it('are reported in a warning naming the collector and how many were lost, never its credentials', async () => {
    const lines: string[] = [];
    const log = createLogger('executor-worker', 'info', { write: (line) => lines.push(line) });
    const { port } = server.address() as AddressInfo;
    const tracing = startTracing('executor-worker', { endpoint: `http://otel:S3cretPw-42@127.0.0.1:${port}` }, log);
    for (const name of ['a', 'b', 'c']) trace.getTracer('test').startSpan(name).end();
    await tracing.shutdown();
    expect(batches).toBeGreaterThanOrEqual(1);
    const warnings = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.level === 'warn');
    expect(warnings).toEqual([
      expect.objectContaining({
        msg: 'traces did not reach the collector: spans lost',
        collector: `127.0.0.1:${port}`,
        spans: 3,
      }),
    ]);
    expect(lines.join('\n')).not.toContain('S3cretPw-42');
  });
});
