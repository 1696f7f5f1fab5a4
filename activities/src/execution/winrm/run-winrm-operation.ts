import { randomBytes } from 'node:crypto';
import { CancelledFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import { ErrorType, type CommandOutput, type CredentialSecret, type RunWinrmOperationInput } from '@opsc/contracts';
import type { ExecutionDeps } from '../deps.js';
import { parseFacts } from '../facts.js';
import { RemoteFailure } from '../remote-failure.js';
import { attemptRecorder, commandOutput, performedText, type Performed } from '../remote-result.js';
import { powershellInvocation, readableStderr } from './powershell.js';
import { maxSendBytes, runRemoteCommand, type RemoteOutcome } from './remote-shell.js';
import { SoapParseError } from './soap-response.js';
import { WinrmConnection, WsmanFaultError, type WinrmAuth, type WinrmEndpoint } from './transport.js';
import { powershellScriptFor, windowsScriptFor } from './windows-scripts.js';
import { isBootTime, waitForWindowsBoot, windowsPowerScript } from './power.js';
import { notIssuedAgain, powerStart, requireBefore, type PowerIssued } from '../power-attempt.js';
import { runMarkerKey } from '../run-marker.js';
import { changesWindowsTarget, TAKEN_OVER_FACT } from './run-marker-envelope.js';
import { artifactBytesIn, artifactStdin, prepend } from './copy-stdin.js';
import { transferReporter } from '../transfer-progress.js';
import { stagedPathFor, stageScriptFor } from './stage-script.js';
import { outputLineKey, skipFactLines } from '../output-lines/sink.js';
import { stderrLineFeed } from './stderr-lines.js';

const HEARTBEAT_EVERY_MS = 1_000;
/**
 * A run marker's lease outlasts the step's timeout by this much: a live executor has terminated its
 * command by then (Signal within the cleanup's 10 s). Kept below the heartbeat timeout, so a retry
 * of a hung owner sees its lease expire before the retry's own timeout.
 */
const LEASE_MARGIN_SECONDS = 15;

/** Everything that makes two connections different; a rotated credential or a moved host gets a new one. */
const poolKey = (e: WinrmEndpoint): string =>
  [
    e.targetId,
    e.scheme,
    e.host,
    e.port,
    e.transport,
    e.verifyCertificate,
    e.caCertificate ?? '',
    e.username,
    e.credentialFingerprint,
  ].join('|');

/** A fault of the connection, not of the command: under a restart, the host going down looks like this. */
const mayBeGoingDown = (err: unknown): boolean =>
  err instanceof WsmanFaultError ||
  err instanceof SoapParseError ||
  (err instanceof RemoteFailure &&
    (err.type === ErrorType.ConnectionLost ||
      err.type === ErrorType.Unavailable ||
      err.type === ErrorType.HostUnreachable));

/** `DOMAIN\user` names a domain account; a bare name (or `user@domain`) goes as given with no domain. */
const splitUser = (username: string): { user: string; domain: string } => {
  const at = username.indexOf('\\');
  return at > 0 ? { domain: username.slice(0, at), user: username.slice(at + 1) } : { domain: '', user: username };
};

/** Matches the stored secret to the target's transport; a mismatch is the inventory's mistake, not the network's. */
const authFor = (endpoint: WinrmEndpoint, secret: CredentialSecret): WinrmAuth => {
  const mismatch = (what: string) =>
    new RemoteFailure(
      ErrorType.ValidationFailed,
      `${endpoint.targetName}: the ${endpoint.transport} transport needs ${what}, but its credential is a ${secret.kind}`,
    );
  if (endpoint.transport === 'certificate') {
    if (secret.kind !== 'client-certificate') throw mismatch('a client-certificate credential');
    return { kind: 'certificate', certificate: secret.certificate, privateKey: secret.privateKey };
  }
  if (secret.kind !== 'winrm' && secret.kind !== 'password') throw mismatch('a winrm or password credential');
  if (endpoint.transport === 'basic') return { kind: 'basic', user: endpoint.username, password: secret.password };
  return { kind: 'ntlm', ...splitUser(endpoint.username), password: secret.password };
};

export const createRunWinrmOperation = (deps: ExecutionDeps) => {
  const { winrm } = deps;

  return async (input: RunWinrmOperationInput): Promise<CommandOutput> => {
    const ctx = Context.current();
    const startedAt = new Date();
    const progress: { stdoutBytes: number; stderrBytes: number; transferredBytes: number; power?: PowerIssued } = {
      stdoutBytes: 0,
      stderrBytes: 0,
      transferredBytes: 0,
    };
    const heartbeat = setInterval(() => ctx.heartbeat(progress), HEARTBEAT_EVERY_MS);
    const save = attemptRecorder(deps, input, 'winrm', ctx.info.attempt, startedAt);
    const { operation } = input;
    const nonce = randomBytes(8).toString('hex');
    const lines = deps.lines.open(outputLineKey(input, ctx.info.attempt), { skipLine: skipFactLines(nonce) });
    const stderrLines = stderrLineFeed(lines);

    try {
      const endpoint = await winrm.findEndpoint(input.jobId, input.target.id);
      const auth = authFor(endpoint, await winrm.openSecret(endpoint.credentialId));

      // A change runs under its run marker: a retry of this step on this target reports the first run's result.
      const scriptContext = {
        jobId: input.jobId,
        stepId: input.stepId,
        nonce,
        ...(changesWindowsTarget(operation) && {
          marker: runMarkerKey(input, ctx.info.attempt),
          leaseSeconds: input.timeoutSeconds + LEASE_MARGIN_SECONDS,
        }),
      };
      // Both commands of a file-copy share the step's time.
      const deadline = Date.now() + input.timeoutSeconds * 1000;
      const run = (script: string, data?: AsyncIterable<Buffer>, onData?: (chunk: Buffer) => void) => {
        const invocation = powershellInvocation(script);
        // A script too long for the command line comes first on stdin; an upload's data follows it.
        const stdin =
          invocation.stdin && data
            ? prepend(invocation.stdin, data)
            : (data ?? (invocation.stdin ? [invocation.stdin] : undefined));
        return winrm.pool.with(
          poolKey(endpoint),
          () => new WinrmConnection(endpoint, auth, { connectTimeoutMs: winrm.connectTimeoutMs }),
          (connection) =>
            runRemoteCommand(
              connection,
              {
                command: invocation.command,
                args: invocation.args,
                ...(stdin && { stdin }),
                timeoutMs: Math.max(1, deadline - Date.now()),
                signal: ctx.cancellationSignal,
                captureCapBytes: deps.limits.storeCapBytes,
                onOutput: (stream, bytes, chunk) => {
                  progress[stream === 'stdout' ? 'stdoutBytes' : 'stderrBytes'] += bytes;
                  if (stream === 'stdout') lines.write('stdout', chunk);
                  else stderrLines.write(chunk);
                },
                onSent: (bytes, chunk) => {
                  progress.transferredBytes += bytes;
                  onData?.(chunk);
                },
              },
              winrm.shell,
            ),
        );
      };

      /** The outcome of a command as the step's result, or the failure it is (cancelled, timed out, taken over). */
      const judged = async (outcome: RemoteOutcome, reportsFacts: boolean): Promise<Performed> => {
        const rawStdout = outcome.stdout.text();
        const { stdout, facts } = reportsFacts ? parseFacts(rawStdout, nonce) : { stdout: rawStdout, facts: {} };
        const performed: Performed = {
          exitCode: outcome.exitCode,
          signal: null,
          stdout,
          stderr: readableStderr(outcome.stderr.text()),
          stdoutBytes: outcome.stdout.totalBytes,
          stderrBytes: outcome.stderr.totalBytes,
          stdoutTruncated: outcome.stdout.truncated,
          stderrTruncated: outcome.stderr.truncated,
          facts,
        };
        if (outcome.aborted) {
          await save(performed, { type: ErrorType.Cancelled, message: 'cancelled; the remote command was terminated' });
          throw new CancelledFailure('cancelled while running');
        }
        // An attempt that stopped an earlier one mid-change did not run it again: whether the host
        // changed is unknown, which is what a failure with no result tells the job (as a timeout does).
        const takenOver = new RegExp(`^@@opsc-${nonce} ${TAKEN_OVER_FACT}=(\\d+)\r?$`, 'm').exec(rawStdout);
        if (takenOver && scriptContext.marker && !outcome.timedOut) {
          const message = `on ${endpoint.targetName} attempt ${takenOver[1]} was stopped mid-change after its deadline; the host may be half-changed, so the change was not run again`;
          await save(performed, { type: ErrorType.Timeout, message });
          throw new RemoteFailure(ErrorType.Timeout, message, { recorded: true });
        }
        if (outcome.timedOut) {
          const message = `timed out after ${input.timeoutSeconds}s on ${endpoint.targetName}; the remote command was terminated`;
          await save(performed, { type: ErrorType.Timeout, message });
          throw new RemoteFailure(ErrorType.Timeout, message, { recorded: true });
        }
        return performed;
      };

      let script: { script: string; reportsFacts: boolean };
      /** The line a retried reboot or shutdown, or a restart the connection dropped under, reports instead of an outcome. */
      let resumed: string | undefined;
      let staged: RemoteOutcome | undefined;
      if (operation.op === 'powershell') {
        script = powershellScriptFor(operation, scriptContext);
      } else if (operation.op === 'reboot' || operation.op === 'shutdown') {
        script = windowsPowerScript(operation.op, nonce);
        // Issued at most once: a retry finds the record an earlier attempt heartbeat, and only waits.
        const start = powerStart(ctx.info.attempt, ctx.info.heartbeatDetails, operation.op, endpoint.targetName);
        if (start.issue) {
          let before = '';
          if (operation.op === 'reboot') {
            const probe = await run(windowsPowerScript('boot-time', nonce).script);
            const seen = parseFacts(probe.stdout.text(), nonce).facts.boot_time ?? '';
            const valid = (t: string) => probe.exitCode === 0 && isBootTime(t);
            before = requireBefore(seen, valid, 'LastBootUpTime', endpoint.targetName);
          }
          progress.power = { op: operation.op, attempt: ctx.info.attempt, issuedAt: new Date().toISOString(), before };
          ctx.heartbeat(progress);
        } else {
          progress.power = start.earlier;
          resumed = `${notIssuedAgain(start.earlier)}\r\n`;
          lines.writeText('stdout', resumed);
        }
      } else if (operation.op === 'file-copy') {
        // The artifact goes to a staging file first, by a command outside the run marker; the
        // change reads that file, so no command under the marker waits for this client's data.
        const artifact = await winrm.artifacts.open(input.jobId, operation.source, operation.sha256);
        const sha256 = artifact.sha256;
        // The bytes of the artifact sent so far go to the live output, a few times a second.
        const upload = transferReporter(lines, 'upload', artifact.bytes);
        let uploaded = 0;
        staged = await run(
          stageScriptFor({ nonce }, { sha256, bytes: artifact.bytes }).script,
          artifactStdin(artifact.file, maxSendBytes(winrm.shell.maxEnvelopeSize)),
          (chunk) => {
            uploaded += artifactBytesIn.get(chunk) ?? 0;
            if (uploaded >= artifact.bytes) upload.done();
            else upload.update(uploaded);
          },
        );
        script = windowsScriptFor(operation, scriptContext, { sha256, staged: stagedPathFor(nonce) });
      } else if (operation.op === 'file-check') {
        // Check mode: the destination is hashed there and compared with the SHA-256 the plan pins, once
        // the store is seen to hold that version; the artifact is never fetched, nothing is uploaded.
        const sha256 = await winrm.artifacts.pinned(input.jobId, operation.source, operation.sha256);
        script = windowsScriptFor(operation, scriptContext, { sha256 });
      } else {
        script = windowsScriptFor(operation, scriptContext);
      }
      // A failed upload is the step's result: nothing on the host changed.
      const outcome =
        resumed !== undefined
          ? undefined
          : staged && (staged.exitCode !== 0 || staged.aborted || staged.timedOut)
            ? staged
            : await run(script.script).catch((err: unknown) => {
                // Restart-Computer may have taken the host down under the command: the wait finds out.
                if (operation.op !== 'reboot' || !mayBeGoingDown(err)) throw err;
                resumed = `the connection dropped while the restart was requested (${(err as Error).message}); waiting for the host\r\n`;
                lines.writeText('stdout', resumed);
                return undefined;
              });

      stderrLines.end();
      await lines.close();
      const performed = outcome ? await judged(outcome, script.reportsFacts) : performedText(resumed ?? '', {});
      if (operation.op === 'reboot' && performed.exitCode === 0) {
        const before = progress.power?.before ?? '';
        const back = await waitForWindowsBoot({
          endpoint,
          auth,
          connectTimeoutMs: winrm.connectTimeoutMs,
          shell: winrm.shell,
          before,
          timeoutSeconds: operation.timeoutSeconds,
          signal: ctx.cancellationSignal,
          nonce,
        }).catch(async (err: unknown) => {
          if (err instanceof RemoteFailure) await save(performed, { type: err.type, message: err.message });
          // The reboot ran: its record says so even when the wait for the host is cancelled.
          if (err instanceof CancelledFailure)
            await save(performed, { type: ErrorType.Cancelled, message: err.message }).catch(() => undefined);
          throw err instanceof RemoteFailure
            ? new RemoteFailure(err.type, err.message, { recorded: true, final: true })
            : err;
        });
        const text = `${endpoint.targetName} is back after ${back.seconds} s: booted ${before} -> ${back.bootTime}\r\n`;
        Object.assign(performed, {
          stdout: performed.stdout + text,
          stdoutBytes: performed.stdoutBytes + Buffer.byteLength(text),
          facts: {
            ...performed.facts,
            boot_time_before: before,
            boot_time: back.bootTime,
            back_after_seconds: String(back.seconds),
          },
        });
      }
      await save(performed);
      return commandOutput(performed, deps.limits.resultCapBytes, startedAt);
    } catch (err) {
      const failure =
        err instanceof RemoteFailure
          ? err
          : err instanceof WsmanFaultError
            ? new RemoteFailure(ErrorType.Unavailable, err.message)
            : err instanceof SoapParseError
              ? new RemoteFailure(
                  ErrorType.ConnectionLost,
                  `the WinRM service answered something that is not WS-Management: ${err.message}`,
                )
              : null;
      if (!failure) throw err;
      if (failure.type === ErrorType.Cancelled) {
        if (!failure.recorded)
          await save({}, { type: ErrorType.Cancelled, message: failure.message }).catch(() => undefined);
        throw new CancelledFailure(failure.message);
      }
      if (!failure.recorded) await save({}, { type: failure.type, message: failure.message }).catch(() => undefined);
      throw failure.toApplicationFailure();
    } finally {
      clearInterval(heartbeat);
      stderrLines.end();
      await lines.close();
    }
  };
};
