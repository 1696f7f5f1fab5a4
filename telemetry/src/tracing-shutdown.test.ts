import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHUTDOWN_WAIT_MS, startTracing } from './tracing.js';

// A collector that takes the connection and never answers (hung, or a black-holed proxy).
let server: Server;
beforeAll(async () => {
  server = createServer(() => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('stopping with a collector that never answers', () => {
  it(`waits at most ${SHUTDOWN_WAIT_MS} ms for the spans still batched`, async () => {
    const { port } = server.address() as AddressInfo;
    const tracing = startTracing('executor-worker', { endpoint: `http://127.0.0.1:${port}` });
    trace.getTracer('test').startSpan('last words').end();
    const started = performance.now();
    await tracing.shutdown();
    expect(performance.now() - started).toBeLessThan(SHUTDOWN_WAIT_MS + 1_000);
  }, 60_000);
});
