export {
  CONTEXT_KEYS,
  MAX_LINE_BYTES,
  addLogContext,
  createLogger,
  formatLine,
  levelEnabled,
  logContext,
  withLogContext,
  type ContextKey,
  type Level,
  type LogContext,
  type Logger,
  type LoggerOptions,
} from './log.js';
export { REDACTED, clearSecrets, redactFields, redactText, redactValue, registerSecrets, secretsOf } from './redact.js';
export { createLogContextInterceptor, inputContext, logContextInterceptor } from './log-context-interceptor.js';
