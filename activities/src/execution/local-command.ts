import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import { ErrorType, localCommandProfile, type CommandOutput, type RunLocalCommandInput } from '@opsc/contracts';
import type { ExecutionDeps } from './deps.js';
import { outputLineKey } from './output-lines/sink.js';
import { SpawnError } from './run-process.js';
import { SandboxUnavailable } from './sandbox/sandbox.js';

const HEARTBEAT_EVERY_MS = 1_000;
/** Diagnostics that ask a DNS server: their destination is a server on port 53. */
const DNS_PROGRAMS: ReadonlySet<string> = new Set(['dig', 'nslookup', 'host']);

const hostsFile = (): string => {
  try {
    return readFileSync('/etc/hosts', 'utf8');
  } catch {
    return '127.0.0.1 localhost\n::1 localhost\n';
  }
};

/**
 * The network a command gets: none, unless it is a read-only diagnostic (argv-exact) whose every
 * destination passes the egress policy. Names are pinned to the addresses that were judged, through
 * the sandbox's /etc/hosts, so the program cannot resolve them to something else.
 */
const networkFor = async (
  deps: ExecutionDeps,
  input: RunLocalCommandInput,
): Promise<{ network: boolean; hosts?: string }> => {
  const { destinations } = localCommandProfile(input.command, input.args);
  if (destinations === null) return { network: false };
  const port = DNS_PROGRAMS.has(input.command) ? 53 : null;
  const pinned: string[] = [];
  for (const destination of destinations) {
    const addresses = await deps.egress.resolve({ jobId: input.jobId, tenantId: input.tenantId }, destination, port);
    if (isIP(destination) === 0) pinned.push(...addresses.map((a) => `${a.address} ${destination}`));
  }
  return pinned.length ? { network: true, hosts: `${pinned.join('\n')}\n${hostsFile()}` } : { network: true };
};

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
    const save = (error: { type: ErrorType; message: string }) =>
      deps.store.saveResult({
        context: input,
        attempt: ctx.info.attempt,
        method: 'local-command',
        stdout: '',
        stderr: error.message,
        stdoutTruncated: false,
        stderrTruncated: false,
        startedAt,
        finishedAt: new Date(),
        error,
      });
    try {
      const program = deps.sandbox.resolve(input.command);
      const { network, hosts } = await networkFor(deps, input);
      heartbeat = setInterval(() => ctx.heartbeat(progress), HEARTBEAT_EVERY_MS);
      const outcome = await deps.sandbox.run({
        program,
        args: input.args,
        network,
        ...(hosts !== undefined && { hosts }),
        timeoutMs: input.timeoutSeconds * 1000,
        captureCapBytes: deps.limits.storeCapBytes,
        signal: ctx.cancellationSignal,
        onData: (stream, chunk) => {
          progress[stream === 'stdout' ? 'stdoutBytes' : 'stderrBytes'] += chunk.length;
          lines.write(stream, chunk);
        },
      });
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
        throw ApplicationFailure.retryable(
          `${input.command} timed out after ${input.timeoutSeconds}s`,
          ErrorType.Timeout,
        );
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
      // No sandbox, no command: nothing runs on the executor host unboxed.
      if (err instanceof SandboxUnavailable) {
        await save({ type: ErrorType.Unavailable, message: err.message });
        throw ApplicationFailure.nonRetryable(err.message, ErrorType.Unavailable);
      }
      if (err instanceof ApplicationFailure && err.type === ErrorType.EgressDenied)
        await save({ type: ErrorType.EgressDenied, message: err.message });
      throw err;
    } finally {
      clearInterval(heartbeat);
      await lines.close();
    }
  };
