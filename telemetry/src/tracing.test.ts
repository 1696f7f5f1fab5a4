import { describe, expect, it } from 'vitest';
import { currentTraceId, startTracing, tracesUrl } from './tracing.js';

describe('tracing settings', () => {
  it('sends to the traces URL when given, else to the endpoint with /v1/traces', () => {
    expect(tracesUrl({ endpoint: 'http://127.0.0.1:4318/' })).toBe('http://127.0.0.1:4318/v1/traces');
    expect(tracesUrl({ endpoint: 'http://a:4318', tracesEndpoint: 'http://b:4318/x' })).toBe('http://b:4318/x');
    expect(tracesUrl({})).toBeUndefined();
  });

  it('is off without an endpoint: no interceptor, no worker option, no trace id', async () => {
    const tracing = startTracing('orchestrator', {});
    expect(tracing.enabled).toBe(false);
    expect(tracing.clientInterceptors()).toEqual({ workflow: [] });
    expect(tracing.activityInterceptors()).toEqual([]);
    expect(tracing.workerOptions(true)).toEqual({});
    expect(currentTraceId()).toBeNull();
    await tracing.shutdown();
  });
});
