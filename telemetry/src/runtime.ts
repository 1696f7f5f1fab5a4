import {
  DefaultLogger,
  Runtime,
  makeTelemetryFilterString,
  type LogEntry,
  type LogLevel,
  type MetricsExporterConfig,
  type TelemetryOptions,
} from '@temporalio/worker';
import type { Level, Logger } from './log.js';

const toSdkLevel: Record<Level, LogLevel> = { debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR' };
const fromSdkLevel: Record<LogLevel, Level> = {
  TRACE: 'debug',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * The SDK's log metadata in our keys: its run ids become `runId`, the Rust module path of a core
 * line becomes `coreTarget` (`target` is ours: the job's target), and what must not be logged
 * (the activity's task token, core's span contexts) is left out.
 */
export const sdkFields = (meta: Record<string | symbol, unknown> = {}): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(meta)) {
    if (value === undefined) continue;
    switch (key) {
      case 'workflowRunId':
        out.runId = value;
        break;
      case 'target':
        out.coreTarget = value;
        break;
      case 'taskToken':
      case 'spanContexts':
        break;
      default:
        out[key] = value;
    }
  }
  return out;
};

/** A Temporal `Logger` whose every line goes through our JSON logger (redaction and all). */
export const temporalLogger = (logger: Logger, level: Level): DefaultLogger =>
  new DefaultLogger(toSdkLevel[level], (entry: LogEntry) =>
    logger[fromSdkLevel[entry.level]](entry.message, sdkFields(entry.meta)),
  );

export interface TemporalRuntimeOptions {
  /** The service's JSON logger (createLogger). */
  logger: Logger;
  /**
   * The least severe SDK line written, for the TypeScript SDK and the Rust core alike (core lines
   * are forwarded into the same logger). The service's own LOG_LEVEL is usually lower: the SDK's
   * info lines (worker state changes, bundling) are chatter most days.
   */
  level: Level;
  /** The SDK's metrics exporter (`sdkMetricsOptions` in ./metrics.ts); none when absent. */
  metrics?: MetricsExporterConfig;
}

/** The core's logs, forwarded to the runtime logger at `level`; other crates' only at warn and above. */
const loggingOptions = (level: Level): TelemetryOptions['logging'] => ({
  filter: makeTelemetryFilterString({ core: toSdkLevel[level], other: level === 'error' ? 'ERROR' : 'WARN' }),
  forward: {},
});

/**
 * The one `Runtime.install` of a process: the SDK's logger and core's forwarded logs through the
 * JSON logger. Further telemetry (SDK metrics) joins `telemetryOptions` here as its own option.
 */
export const installTemporalRuntime = (options: TemporalRuntimeOptions): Runtime =>
  Runtime.install({
    logger: temporalLogger(options.logger, options.level),
    telemetryOptions: {
      logging: loggingOptions(options.level),
      ...(options.metrics && { metrics: options.metrics }),
    },
  });
