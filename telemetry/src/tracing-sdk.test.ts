import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, SpanStatusCode, TraceFlags, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clearSecrets, registerSecrets } from './redact.js';
import { currentTraceId, requestSpans, startTracing } from './tracing.js';

// What the OTLP exporter sends, received by a real HTTP server on loopback (protobuf: strings are
// their UTF-8 bytes, so a secret in any of them is in the body as written).
let server: Server;
const bodies: Buffer[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks));
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  clearSecrets();
  await new Promise((resolve) => server.close(resolve));
});

// With the real SDK (registered once per test file), against real HTTP on loopback.
describe('exported spans', () => {
  it('go through the log redaction: attributes, status message, exception message and stack', async () => {
    const secret = `S3cr-${randomBytes(12).toString('hex')}`;
    const password = `pw-${randomBytes(10).toString('hex')}`;
    registerSecrets([secret]);
    const { port } = server.address() as AddressInfo;
    const tracing = startTracing('executor-worker', { endpoint: `http://127.0.0.1:${port}` });
    trace.getTracer('test').startActiveSpan('failing', (span) => {
      span.setAttribute('note', `holds ${secret}`);
      span.setAttribute('list', [`a ${secret}`, 'b']);
      const err = new Error(`connect postgres://u:${password}@db/x failed: ${secret}`);
      span.recordException(err);
      span.addEvent('retry', { reason: `token=${password}` });
      span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
      span.end();
    });
    await tracing.shutdown();
    const sent = Buffer.concat(bodies);
    expect(sent.includes('failing')).toBe(true);
    expect(sent.includes('[redacted]')).toBe(true);
    expect(sent.includes(secret)).toBe(false);
    expect(sent.includes(password)).toBe(false);
  });
});

describe('API request spans', () => {
  it("start a trace of the API's own: a caller's traceparent chooses no trace id and links nothing", async () => {
    const chosen = randomBytes(16).toString('hex');
    let seen: string | null = null;
    const api = createServer((req, res) =>
      requestSpans(() => '/api/jobs')(req, res, () => {
        seen = currentTraceId();
        res.end();
      }),
    );
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    const { port } = api.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/api/jobs`, {
      method: 'POST',
      headers: { traceparent: `00-${chosen}-${randomBytes(8).toString('hex')}-01` },
    });
    await res.text();
    await new Promise((resolve) => api.close(resolve));
    expect(seen).toMatch(/^[0-9a-f]{32}$/);
    expect(seen).not.toBe(chosen);
  });
});

describe("the job's trace id", () => {
  it('is that of a sampled trace only: one the sampler left out is never sent, so no link may lead to it', () => {
    const ids = { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex') };
    const inSpan = (traceFlags: TraceFlags) =>
      context.with(trace.setSpan(context.active(), trace.wrapSpanContext({ ...ids, traceFlags })), currentTraceId);
    expect(inSpan(TraceFlags.SAMPLED)).toBe(ids.traceId);
    expect(inSpan(TraceFlags.NONE)).toBeNull();
  });
});
