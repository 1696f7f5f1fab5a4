import { createRequire } from 'node:module';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, SpanKind, SpanStatusCode, TraceFlags, trace, type Attributes } from '@opentelemetry/api';
import { ExportResultCode, W3CTraceContextPropagator, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { ActivityInterceptorsFactory, WorkerOptions } from '@temporalio/worker';
import type { Logger } from './log.js';
import { redactText, registerSecrets, secretsOf } from './redact.js';

const require = createRequire(import.meta.url);

/** What turns tracing on: the standard OTLP variables (docs/tracing.md); both empty means off. */
export interface TracingSettings {
  /** `OTEL_EXPORTER_OTLP_ENDPOINT`: the collector's OTLP/HTTP base URL (`/v1/traces` is added). */
  endpoint?: string | undefined;
  /** `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`: the full traces URL; wins over `endpoint`. */
  tracesEndpoint?: string | undefined;
}

/** At most one line a minute says that spans did not reach the collector, with how many since the last. */
export const EXPORT_FAILURE_REPORT_MS = 60_000;

export type TracedService = 'orchestrator' | 'executor-worker';

/** What a service adds to its Temporal client and workers; all of it empty when tracing is off. */
export interface Tracing {
  readonly enabled: boolean;
  /** For `new Client({ interceptors })`: the workflow start span, carried to the workflow in its headers. */
  clientInterceptors(): { workflow: WorkflowClientInterceptor[] };
  /** For a worker's `interceptors.activity`: each activity in a span, parented by the workflow's. */
  activityInterceptors(): ActivityInterceptorsFactory[];
  /**
   * For `Worker.create`: activity spans (parented by the workflow's span, from the activity headers)
   * and, with `workflows`, the workflow interceptors and the sink their spans leave the sandbox by.
   */
  workerOptions(workflows: boolean): Pick<WorkerOptions, 'interceptors' | 'sinks'>;
  /** Flushes the spans still batched (waiting at most SHUTDOWN_WAIT_MS), then stops exporting. */
  shutdown(): Promise<void>;
}

/** The OTLP/HTTP traces URL the settings name, or undefined when tracing is off. */
export const tracesUrl = (s: TracingSettings): string | undefined => {
  if (s.tracesEndpoint) return s.tracesEndpoint;
  if (s.endpoint) return `${s.endpoint.replace(/\/+$/, '')}/v1/traces`;
  return undefined;
};

/**
 * What of the exporter's settings no log line or span may hold: the password of an endpoint URL and
 * the values of the OTLP header variables (`Authorization=Basic …`), whole and after their scheme.
 */
export const tracingSecrets = (s: TracingSettings, env: NodeJS.ProcessEnv = process.env): string[] => {
  const out = secretsOf({ urls: [s.endpoint, s.tracesEndpoint] });
  for (const list of [env.OTEL_EXPORTER_OTLP_HEADERS, env.OTEL_EXPORTER_OTLP_TRACES_HEADERS])
    for (const pair of list?.split(',') ?? []) {
      const raw = pair.slice(pair.indexOf('=') + 1).trim();
      if (!pair.includes('=') || !raw) continue;
      let value = raw;
      try {
        value = decodeURIComponent(raw);
      } catch {
        // Not percent-encoded: as written.
      }
      out.push(raw, value, ...value.split(/\s+/).slice(1));
    }
  return out;
};

/** How long a stopping service waits for the collector to take the spans still batched. */
export const SHUTDOWN_WAIT_MS = 5_000;

/** The provider's shutdown, bounded: a collector that hangs does not hold a stopping service. */
const boundedShutdown = async (shutdown: () => Promise<void>): Promise<void> => {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    shutdown().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, SHUTDOWN_WAIT_MS);
    }),
  ]);
  clearTimeout(timer);
};

const OFF: Tracing = {
  enabled: false,
  clientInterceptors: () => ({ workflow: [] }),
  activityInterceptors: () => [],
  workerOptions: () => ({}),
  shutdown: async () => undefined,
};

const redactAttributes = (attributes: Attributes): Attributes =>
  Object.fromEntries(
    Object.entries(attributes).map(([k, v]) => [
      k,
      typeof v === 'string'
        ? redactText(v)
        : Array.isArray(v)
          ? v.map((x: unknown) => (typeof x === 'string' ? redactText(x) : x))
          : v,
    ]),
  ) as Attributes;

/**
 * A span as sent: its text (attributes, status message, events: an exception's message and stack)
 * through the log redaction (redact.ts), so what a log line may not hold no span holds either. The
 * span itself is left as it is (the copy reads everything else from it).
 */
const redactSpan = (span: ReadableSpan): ReadableSpan =>
  Object.assign(Object.create(span) as ReadableSpan, {
    attributes: redactAttributes(span.attributes),
    status: span.status.message ? { ...span.status, message: redactText(span.status.message) } : span.status,
    events: span.events.map((e) => (e.attributes ? { ...e, attributes: redactAttributes(e.attributes) } : e)),
  });

/**
 * Says when spans are lost (the collector down, refusing, or too slow), which the SDK keeps to
 * itself: a warning at most once a minute, with the spans lost since the last one.
 */
const exportFailureReport = (log: Pick<Logger, 'warn'> | undefined, url: string) => {
  let lastAt = -Infinity;
  let lost = 0;
  return (spans: number, error: Error | undefined) => {
    lost += spans;
    if (!log || Date.now() - lastAt < EXPORT_FAILURE_REPORT_MS) return;
    log.warn('traces did not reach the collector: spans lost', {
      collector: new URL(url).host,
      spans: lost,
      error: error?.message ?? 'export failed',
    });
    lastAt = Date.now();
    lost = 0;
  };
};

/** The OTLP exporter behind the redaction: every span of the service, the workflows' included. */
const redactingExporter = (
  inner: SpanExporter,
  onLost: (spans: number, error: Error | undefined) => void,
): SpanExporter => ({
  export: (spans: ReadableSpan[], done: (result: ExportResult) => void) =>
    inner.export(spans.map(redactSpan), (result) => {
      if (result.code !== ExportResultCode.SUCCESS) onLost(spans.length, result.error);
      done(result);
    }),
  shutdown: () => inner.shutdown(),
  forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
});

/**
 * The workflow's info is copied onto its spans by the SDK's sink; only these fields go (a memo or a
 * previous run's result could carry anything).
 */
const SPAN_INFO_FIELDS = ['workflowId', 'runId', 'workflowType', 'taskQueue', 'namespace', 'attempt'] as const;

/**
 * Starts tracing for one service when the settings name a collector: spans are batched and sent
 * over OTLP/HTTP (protobuf), with W3C trace context propagated through Temporal headers. Off (the
 * default) nothing is registered and the OpenTelemetry API stays a no-op.
 */
export const startTracing = (
  service: TracedService,
  settings: TracingSettings,
  log?: Pick<Logger, 'warn'>,
): Tracing => {
  const url = tracesUrl(settings);
  if (!url) return OFF;
  registerSecrets(tracingSecrets(settings));
  const resource = new Resource({ [ATTR_SERVICE_NAME]: service });
  const exporter = redactingExporter(new OTLPTraceExporter({ url }), exportFailureReport(log, url));
  const processor = new BatchSpanProcessor(exporter, {
    scheduledDelayMillis: 1_000,
  });
  const provider = new NodeTracerProvider({ resource, spanProcessors: [processor] });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  const activity: ActivityInterceptorsFactory = (ctx) => ({
    inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
  });
  const workflowSink = makeWorkflowExporter(processor, resource);
  const sinks: WorkerOptions['sinks'] = {
    exporter: {
      export: {
        ...workflowSink.export,
        fn: (info, spans: Parameters<typeof workflowSink.export.fn>[1]) => {
          const kept = Object.fromEntries(SPAN_INFO_FIELDS.map((k) => [k, info[k]]));
          void workflowSink.export.fn(kept as unknown as typeof info, spans);
        },
      },
    },
  };
  return {
    enabled: true,
    clientInterceptors: () => ({ workflow: [new OpenTelemetryWorkflowClientInterceptor()] }),
    activityInterceptors: () => [activity],
    workerOptions: (workflows) => ({
      interceptors: {
        activity: [activity],
        ...(workflows && {
          workflowModules: [require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors')],
        }),
      },
      ...(workflows && { sinks }),
    }),
    shutdown: () => boundedShutdown(() => provider.shutdown()),
  };
};

/** The trace the caller runs in (32 hex digits), or null when it is not traced (or not sampled). */
export const currentTraceId = (): string | null => {
  const span = trace.getActiveSpan()?.spanContext();
  // A trace the sampler (OTEL_TRACES_SAMPLER) left out is never sent: no job links to it.
  return span && trace.isSpanContextValid(span) && span.traceFlags & TraceFlags.SAMPLED ? span.traceId : null;
};

/**
 * A connect-style middleware: one server span per HTTP request, named by its route pattern once it
 * is known (`routeOf`, after the response: never the path with its ids, never a body or a header),
 * and active while the route runs so the spans it starts (the workflow start) are its children.
 */
export const requestSpans =
  (routeOf: (req: IncomingMessage) => string | undefined) =>
  (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const method = req.method ?? 'GET';
    const span = trace.getTracer('@opsc/telemetry').startSpan(method, {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': method },
    });
    res.once('close', () => {
      const route = routeOf(req);
      if (route) {
        span.updateName(`${method} ${route}`);
        span.setAttribute('http.route', route);
      }
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(context.active(), span), next);
  };
