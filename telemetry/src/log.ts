import { AsyncLocalStorage } from 'node:async_hooks';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import { redactFields, redactText } from './redact.js';

export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** The correlation keys every service uses, in the order they appear in a line. */
export const CONTEXT_KEYS = [
  'requestId',
  'tenantId',
  'jobId',
  'workflowId',
  'runId',
  'activityId',
  'attempt',
  'step',
  'target',
  'traceId',
] as const;
export type ContextKey = (typeof CONTEXT_KEYS)[number];
/** What a line is about: the request, job, workflow, activity, step and target, where they apply. */
export type LogContext = Partial<Record<Exclude<ContextKey, 'attempt'>, string>> & { attempt?: number };

/** A line past this many bytes keeps its keys and message and loses its other fields, saying so. */
export const MAX_LINE_BYTES = 16_384;
const MAX_CUT_MSG = 1_024;
const MAX_CUT_KEY = 256;

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface LoggerOptions {
  /** Where each line goes (with its newline); default: stdout. */
  write?: (line: string) => void;
}

const storage = new AsyncLocalStorage<LogContext>();

/** Runs `fn` with `fields` added to the log context of every line written inside it, across awaits. */
export const withLogContext = <T>(fields: LogContext, fn: () => T): T =>
  storage.run({ ...storage.getStore(), ...definedOnly(fields) }, fn);

/**
 * Adds fields to the context already in force (e.g. the tenant once a request is authenticated).
 * Returns false outside any `withLogContext`.
 */
export const addLogContext = (fields: LogContext): boolean => {
  const store = storage.getStore();
  if (!store) return false;
  Object.assign(store, definedOnly(fields));
  return true;
};

/** The context in force here (a copy). */
export const logContext = (): LogContext => ({ ...storage.getStore() });

const definedOnly = (fields: LogContext): LogContext =>
  Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined && v !== '')) as LogContext;

/** The active OpenTelemetry span's trace id, when an SDK is installed and a span is recording. */
const activeTraceId = (): string | undefined => {
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  const ctx = span.spanContext();
  return isSpanContextValid(ctx) ? ctx.traceId : undefined;
};

/**
 * JSON leaves NEL and the Unicode line and paragraph separators as they are; some readers split
 * lines on them, so a value could start a forged line there. Escaped, a line stays one line.
 */
const oneLine = (json: string): string =>
  json.replace(/[\u0085\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** Not to be overridden by a caller's fields: a line always says when, how bad, who and what. */
const RESERVED = new Set(['at', 'level', 'service', 'msg']);

/**
 * The line for a message: `at, level, service, msg`, then the correlation keys (context, the
 * active trace, explicit fields winning), then the other fields; everything redacted.
 */
export const formatLine = (
  service: string,
  level: Level,
  msg: string,
  fields: Record<string, unknown> = {},
): string => {
  const traceId = activeTraceId();
  const head = { at: new Date().toISOString(), level, service, msg: redactText(String(msg)) };
  let body: Record<string, unknown>;
  try {
    const merged: Record<string, unknown> = { ...(traceId && { traceId }), ...storage.getStore() };
    for (const [k, v] of Object.entries(fields)) if (!RESERVED.has(k) && v !== undefined) merged[k] = v;
    const ordered: Record<string, unknown> = {};
    for (const key of CONTEXT_KEYS) if (merged[key] !== undefined) ordered[key] = merged[key];
    for (const [k, v] of Object.entries(merged)) if (!(k in ordered)) ordered[k] = v;
    body = redactFields(ordered);
  } catch {
    // A getter among the caller's own fields threw: the line is still written, with its context.
    body = { ...redactFields({ ...(traceId && { traceId }), ...storage.getStore() }), fields: '[unreadable]' };
  }
  const line = oneLine(JSON.stringify({ ...head, ...body }));
  const bytes = Buffer.byteLength(line);
  if (bytes <= MAX_LINE_BYTES) return `${line}\n`;
  const keys = Object.fromEntries(
    CONTEXT_KEYS.filter((k) => body[k] !== undefined).map((k) => [
      k,
      typeof body[k] === 'string' ? body[k].slice(0, MAX_CUT_KEY) : body[k],
    ]),
  );
  return `${oneLine(
    JSON.stringify({
      ...head,
      msg: head.msg.length > MAX_CUT_MSG ? `${head.msg.slice(0, MAX_CUT_MSG)}…` : head.msg,
      ...keys,
      cut: `line of ${bytes} bytes over the ${MAX_LINE_BYTES}-byte limit: its other fields were left out`,
    }),
  )}\n`;
};

/**
 * One JSON object per line on stdout: `at, level, service, msg`, the correlation keys of the
 * context in force (withLogContext) and the caller's fields. Secrets are redacted (redact.ts).
 */
export const createLogger = (service: string, minLevel: Level = 'info', options: LoggerOptions = {}): Logger => {
  const out = options.write ?? ((line: string) => process.stdout.write(line));
  const write =
    (level: Level) =>
    (msg: string, fields: Record<string, unknown> = {}) => {
      if (ORDER[level] < ORDER[minLevel]) return;
      out(formatLine(service, level, msg, fields));
    };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
};

/** Whether `level` passes `minLevel`. */
export const levelEnabled = (level: Level, minLevel: Level): boolean => ORDER[level] >= ORDER[minLevel];
