import { describe, expect, it } from 'vitest';
import { currentTraceId, startTracing, tracesUrl, tracingSecrets } from './tracing.js';

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

describe('tracing secrets', () => {
  it("are an endpoint's password and the OTLP header values, whole, decoded and after their scheme", () => {
    const secrets = tracingSecrets(
      { endpoint: 'https://otel:pw-endpoint-1@collector:4318', tracesEndpoint: 'http://collector:4318/v1/traces' },
      {
        OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Basic%20dXNlcjpwYXNzd29yZA==, x-api-key=key-12345678',
        OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'broken',
      },
    );
    expect(secrets).toEqual(
      expect.arrayContaining(['pw-endpoint-1', 'Basic dXNlcjpwYXNzd29yZA==', 'dXNlcjpwYXNzd29yZA==', 'key-12345678']),
    );
    expect(secrets).not.toContain('broken');
  });
});
