import type { ActionContext, CommandOutput, ErrorType } from '@opsc/contracts';
import type { ExecutionDeps } from './deps.js';

/** What one remote operation produced, before it is stored and capped. */
export interface Performed {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  stdoutBytes: number;
  stderrBytes: number;
  /** More was produced than the store keeps. */
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  facts: Record<string, string>;
}

/** A result made on the executor itself (a scan, a fetch): one line of text and its facts. */
export const performedText = (text: string, facts: Record<string, string>): Performed => ({
  exitCode: 0,
  signal: null,
  stdout: text,
  stderr: '',
  stdoutBytes: Buffer.byteLength(text),
  stderrBytes: 0,
  stdoutTruncated: false,
  stderrTruncated: false,
  facts,
});

const capText = (text: string, capBytes: number): { text: string; truncated: boolean } => {
  const bytes = Buffer.from(text, 'utf8');
  return bytes.length <= capBytes
    ? { text, truncated: false }
    : { text: bytes.subarray(0, capBytes).toString('utf8'), truncated: true };
};

/** Stores an attempt's record (output, facts, error) keyed by job, step and target. */
export const attemptRecorder =
  (
    deps: ExecutionDeps,
    context: ActionContext,
    method: 'ssh' | 'winrm' | 'database',
    attempt: number,
    startedAt: Date,
  ) =>
  (performed: Partial<Performed>, error?: { type: ErrorType; message: string }) =>
    deps.store.saveResult({
      context,
      attempt,
      method,
      exitCode: performed.exitCode ?? null,
      signal: performed.signal ?? null,
      stdout: performed.stdout ?? '',
      stderr: performed.stderr ?? '',
      stdoutTruncated: performed.stdoutTruncated ?? false,
      stderrTruncated: performed.stderrTruncated ?? false,
      stdoutBytes: performed.stdoutBytes ?? 0,
      stderrBytes: performed.stderrBytes ?? 0,
      ...(performed.facts && { facts: performed.facts }),
      startedAt,
      finishedAt: new Date(),
      ...(error && { error }),
    });

/** The activity's result: output capped for workflow history (the store has the rest). */
export const commandOutput = (performed: Performed, capBytes: number, startedAt: Date): CommandOutput => {
  const out = capText(performed.stdout, capBytes);
  const err = capText(performed.stderr, capBytes);
  return {
    kind: 'command',
    exitCode: performed.exitCode,
    signal: performed.signal,
    stdout: out.text,
    stderr: err.text,
    stdoutTruncated: out.truncated || performed.stdoutTruncated,
    stderrTruncated: err.truncated || performed.stderrTruncated,
    durationMs: Date.now() - startedAt.getTime(),
    ...(Object.keys(performed.facts).length > 0 && { facts: performed.facts }),
  };
};
