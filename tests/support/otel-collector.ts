import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.js';

const ENSURE = fileURLToPath(new URL('../../observability/otelcol/ensure-otelcol.sh', import.meta.url));

/** One span as the collector's file exporter wrote it (OTLP JSON), with its service's name. */
export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  attributes: Record<string, unknown>;
}

export interface OtelCollector {
  /** The OTLP/HTTP base URL: the services' `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  endpoint: string;
  /** Every span received so far. */
  spans(): ReceivedSpan[];
  /** The file the spans are written to, as the collector wrote it. */
  rawText(): string;
  stop(): Promise<void>;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
  arrayValue?: { values?: OtlpValue[] };
}
type OtlpAttributes = { key: string; value: OtlpValue }[] | undefined;
const valueOf = (v: OtlpValue): unknown =>
  v.stringValue ??
  (v.intValue === undefined ? undefined : Number(v.intValue)) ??
  v.boolValue ??
  v.doubleValue ??
  v.arrayValue?.values?.map(valueOf);
const attributesOf = (list: OtlpAttributes): Record<string, unknown> =>
  Object.fromEntries((list ?? []).map((a) => [a.key, valueOf(a.value)]));

interface ExportLine {
  resourceSpans?: {
    resource?: { attributes?: OtlpAttributes };
    scopeSpans?: {
      spans?: { traceId: string; spanId: string; parentSpanId?: string; name: string; attributes?: OtlpAttributes }[];
    }[];
  }[];
}

/** Reads the file exporter's output: one OTLP JSON export request per line. */
export const parseSpans = (text: string): ReceivedSpan[] =>
  text
    // A line still being written is read next time.
    .slice(0, text.lastIndexOf('\n') + 1)
    .split('\n')
    .filter((line) => line.trim())
    .flatMap((line) =>
      ((JSON.parse(line) as ExportLine).resourceSpans ?? []).flatMap((rs) => {
        const service = String(attributesOf(rs.resource?.attributes)['service.name'] ?? '');
        return (rs.scopeSpans ?? []).flatMap((ss) =>
          (ss.spans ?? []).map((s) => ({
            service,
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parentSpanId ?? '',
            name: s.name,
            attributes: attributesOf(s.attributes),
          })),
        );
      }),
    );

/**
 * The project's slim OpenTelemetry Collector (observability/otelcol, built once into a cache by
 * ensure-otelcol.sh) on a free loopback port: OTLP/HTTP in, OTLP JSON lines into a temporary file.
 */
export const startOtelCollector = async (): Promise<OtelCollector> => {
  // Waits for a build in progress (setup.sh --test starts one in the background), else builds.
  const { stdout } = await promisify(execFile)('bash', [ENSURE], { timeout: 20 * 60_000 });
  const binary = stdout.trim();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opsc-otelcol-'));
  const file = path.join(dir, 'spans.jsonl');
  const port = await freePort();
  const config = path.join(dir, 'config.yaml');
  writeFileSync(
    config,
    [
      'receivers:',
      '  otlp:',
      '    protocols:',
      '      http:',
      `        endpoint: 127.0.0.1:${port}`,
      'exporters:',
      '  file:',
      `    path: ${file}`,
      '    flush_interval: 100ms',
      'service:',
      '  telemetry:',
      '    logs:',
      '      level: warn',
      '    metrics:',
      '      level: none',
      '  pipelines:',
      '    traces:',
      '      receivers: [otlp]',
      '      exporters: [file]',
      '',
    ].join('\n'),
  );
  const log: string[] = [];
  const child: ChildProcess = spawn(binary, ['--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => log.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => log.push(d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  // Ready when its receiver takes an (empty) export request.
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the collector exited: ${log.join('')}`);
    const ok = await fetch(`${endpoint}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the collector did not answer on ${endpoint}: ${log.join('')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const rawText = () => (existsSync(file) ? readFileSync(file, 'utf8') : '');
  return { endpoint, spans: () => parseSpans(rawText()), rawText, stop };
};
