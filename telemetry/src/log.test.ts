import { setTimeout as sleep } from 'node:timers/promises';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_LINE_BYTES, addLogContext, createLogger, logContext, withLogContext } from './log.js';

const capture = (level: 'debug' | 'info' = 'debug') => {
  const lines: string[] = [];
  const log = createLogger('svc', level, { write: (line) => lines.push(line) });
  const parsed = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { log, lines, parsed };
};

describe('createLogger', () => {
  it('writes one JSON object per line with at, level, service and msg first', () => {
    const { log, lines, parsed } = capture();
    log.info('hello', { count: 2 });
    log.error('bad');
    expect(lines.every((l) => l.endsWith('\n') && !l.slice(0, -1).includes('\n'))).toBe(true);
    const [first, second] = parsed();
    expect(Object.keys(first!).slice(0, 4)).toEqual(['at', 'level', 'service', 'msg']);
    expect(first).toMatchObject({ level: 'info', service: 'svc', msg: 'hello', count: 2 });
    expect(Number.isNaN(Date.parse(String(first!.at)))).toBe(false);
    expect(second).toMatchObject({ level: 'error', msg: 'bad' });
  });

  it('leaves out lines below its level', () => {
    const { log, parsed } = capture('info');
    log.debug('quiet');
    log.warn('loud');
    expect(parsed().map((l) => l.msg)).toEqual(['loud']);
  });

  it('keeps at, level, service and msg whatever the fields say', () => {
    const { log, parsed } = capture();
    log.info('real', { service: 'fake', level: 'error', msg: 'other', at: 'then' });
    expect(parsed()[0]).toMatchObject({ service: 'svc', level: 'info', msg: 'real' });
  });
});

describe('log context', () => {
  it('reaches every line inside withLogContext, across awaits and timers, and nothing outside', async () => {
    const { log, parsed } = capture();
    await withLogContext({ requestId: 'r-1', jobId: 'job-1' }, async () => {
      log.info('before');
      await sleep(5);
      await Promise.all([
        (async () => {
          await sleep(1);
          log.info('in a branch');
        })(),
        new Promise<void>((resolve) =>
          setTimeout(() => {
            log.info('in a timer');
            resolve();
          }, 2),
        ),
      ]);
      expect(logContext()).toEqual({ requestId: 'r-1', jobId: 'job-1' });
    });
    log.info('outside');
    const lines = parsed();
    for (const line of lines.slice(0, 3)) expect(line).toMatchObject({ requestId: 'r-1', jobId: 'job-1' });
    expect(lines[3]).not.toHaveProperty('requestId');
    expect(logContext()).toEqual({});
  });

  it('keeps concurrent contexts apart', async () => {
    const { log, parsed } = capture();
    const run = (id: string) =>
      withLogContext({ requestId: id }, async () => {
        await sleep(Math.random() * 5);
        log.info(id);
      });
    await Promise.all(['a', 'b', 'c', 'd'].map(run));
    for (const line of parsed()) expect(line.requestId).toBe(line.msg);
  });

  it('nests, adds fields later (addLogContext), and lets explicit fields win', async () => {
    const { log, parsed } = capture();
    expect(addLogContext({ tenantId: 'nowhere' })).toBe(false);
    await withLogContext({ requestId: 'r-2' }, async () => {
      addLogContext({ tenantId: 't-1' });
      await withLogContext({ jobId: 'job-2', step: 's1' }, async () => {
        await sleep(1);
        log.info('inner', { step: 'explicit' });
      });
      log.info('outer');
    });
    const [inner, outer] = parsed();
    expect(inner).toMatchObject({ requestId: 'r-2', tenantId: 't-1', jobId: 'job-2', step: 'explicit' });
    expect(outer).toMatchObject({ requestId: 'r-2', tenantId: 't-1' });
    expect(outer).not.toHaveProperty('jobId');
    // The correlation keys come right after msg, in one order.
    expect(Object.keys(inner!).slice(4, 8)).toEqual(['requestId', 'tenantId', 'jobId', 'step']);
  });
});

describe('traceId', () => {
  const contextManager = new AsyncLocalStorageContextManager();
  beforeAll(() => {
    contextManager.enable();
    context.setGlobalContextManager(contextManager);
    trace.setGlobalTracerProvider(new BasicTracerProvider());
  });
  afterAll(() => {
    trace.disable();
    context.disable();
  });

  it("is the active span's trace id, and absent without a span", async () => {
    const { log, parsed } = capture();
    log.info('no span');
    const tracer = trace.getTracer('test');
    let traceId = '';
    await tracer.startActiveSpan('work', async (span) => {
      traceId = span.spanContext().traceId;
      await sleep(1);
      log.info('in a span');
      span.end();
    });
    const [none, inSpan] = parsed();
    expect(none).not.toHaveProperty('traceId');
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(inSpan!.traceId).toBe(traceId);
  });
});

describe('size cap', () => {
  it(`cuts a line past ${MAX_LINE_BYTES} bytes, keeping the keys and saying so`, async () => {
    const { log, lines, parsed } = capture();
    const big = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`f${i}`, 'x'.repeat(4_000)]));
    await withLogContext({ jobId: 'job-3' }, async () => log.warn('m'.repeat(5_000), big));
    expect(Buffer.byteLength(lines[0]!)).toBeLessThanOrEqual(MAX_LINE_BYTES);
    const line = parsed()[0]!;
    expect(line).toMatchObject({ level: 'warn', service: 'svc', jobId: 'job-3' });
    expect(String(line.msg).length).toBeLessThan(1_100);
    expect(line.cut).toMatch(/over the 16384-byte limit/);
    expect(line).not.toHaveProperty('f0');
  });
});
