import { describe, expect, it } from 'vitest';
import type { ApiDeps } from './deps.js';
import { jobLinks } from './created-job.js';
import { parseOrchestratorEnv } from '../env.js';

const deps = (traceUiUrl?: string) => ({ namespace: 'default', ...(traceUiUrl && { traceUiUrl }) }) as ApiDeps;
const ID = '4bf92f3577b34da6a3ce929d0e0e4736';

describe("a job's trace link", () => {
  it('puts the trace id into the configured viewer URL', () => {
    expect(jobLinks(deps('http://jaeger:16686/trace/{traceId}'), 'job-1', ID).traceUi).toBe(
      `http://jaeger:16686/trace/${ID}`,
    );
  });

  it('is null without a viewer, without a trace id, or for anything but 32 hex digits', () => {
    expect(jobLinks(deps(), 'job-1', ID).traceUi).toBeNull();
    expect(jobLinks(deps('http://jaeger/trace/{traceId}'), 'job-1', null).traceUi).toBeNull();
    expect(jobLinks(deps('http://jaeger/trace/{traceId}'), 'job-1', `${ID}"><script>`).traceUi).toBeNull();
  });
});

describe('OTEL_TRACE_UI_URL', () => {
  const parse = (OTEL_TRACE_UI_URL: string) =>
    parseOrchestratorEnv({ DATABASE_URL: 'postgres://db/x', OTEL_TRACE_UI_URL });

  it('takes an http(s) URL holding {traceId}', () => {
    expect(parse('https://jaeger.example/trace/{traceId}').OTEL_TRACE_UI_URL).toBe(
      'https://jaeger.example/trace/{traceId}',
    );
  });

  it.each(['javascript:alert(1)//{traceId}', 'file:///trace/{traceId}', 'http://jaeger/trace/'])(
    'refuses %s',
    (url) => {
      expect(() => parse(url)).toThrow(/OTEL_TRACE_UI_URL/);
    },
  );
});
