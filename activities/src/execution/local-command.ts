import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import { ErrorType, type CommandOutput, type RunLocalCommandInput } from '@opsc/contracts';
import type { ExecutionDeps } from './deps.js';
import { outputLineKey } from './output-lines/sink.js';
import { runProcess, SpawnError } from './run-process.js';

const HEARTBEAT_EVERY_MS = 1_000;

export const createRunLocalCommand =
  (deps: ExecutionDeps) =>
  async (input: RunLocalCommandInput): Promise<CommandOutput> => {
    const ctx = Context.current();
    if (!deps.allowedLocalCommands.has(input.command)) {
      throw ApplicationFailure.nonRetryable(
        `${input.command} is not in this executor's local command allowlist`,
        ErrorType.CommandNotAllowed,
      );
    }
    const startedAt = new Date();
    let heartbeat: NodeJS.Timeout | undefined;
    const progress = { stdoutBytes: 0, stderrBytes: 0 };
    const lines = deps.lines.open(outputLineKey(input, ctx.info.attempt));
    const outcomePromise = runProcess({
      command: input.command,
      args: input.args,
      timeoutMs: input.timeoutSeconds * 1000,
      captureCapBytes: deps.limits.storeCapBytes,
      env: { PATH: deps.localPath, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' },
      signal: ctx.cancellationSignal,
      onData: (stream, chunk) => {
        progress[stream === 'stdout' ? 'stdoutBytes' : 'stderrBytes'] += chunk.length;
        lines.write(stream, chunk);
      },
    });
    try {
      heartbeat = setInterval(() => ctx.heartbeat(progress), HEARTBEAT_EVERY_MS);
      const outcome = await outcomePromise;
      await lines.close();
      const record = {
        context: input,
        attempt: ctx.info.attempt,
        method: 'local-command',
        exitCode: outcome.exitCode,
        signal: outcome.signal,
        stdout: outcome.stdout.text(),
        stderr: outcome.stderr.text(),
        stdoutTruncated: outcome.stdout.truncated,
        stderrTruncated: outcome.stderr.truncated,
        stdoutBytes: outcome.stdout.totalBytes,
        stderrBytes: outcome.stderr.totalBytes,
        startedAt,
        finishedAt: new Date(),
        ...(outcome.timedOut && {
          error: { type: ErrorType.Timeout, message: `timed out after ${input.timeoutSeconds}s` },
        }),
      };
      await deps.store.saveResult(record);
      if (outcome.aborted) throw new CancelledFailure('cancelled while running');
      if (outcome.timedOut) {
        throw ApplicationFailure.retryable(`${input.command} timed out after ${input.timeoutSeconds}s`, ErrorType.Timeout);
      }
      const cap = deps.limits.resultCapBytes;
      return {
        kind: 'command',
        exitCode: outcome.exitCode,
        signal: outcome.signal,
        stdout: outcome.stdout.text(cap),
        stderr: outcome.stderr.text(cap),
        stdoutTruncated: outcome.stdout.totalBytes > cap,
        stderrTruncated: outcome.stderr.totalBytes > cap,
        durationMs: Math.round(outcome.durationMs),
      };
    } catch (err) {
      if (err instanceof SpawnError) {
        throw ApplicationFailure.nonRetryable(err.message, ErrorType.CommandFailed);
      }
      throw err;
    } finally {
      clearInterval(heartbeat);
      await lines.close();
    }
  };
