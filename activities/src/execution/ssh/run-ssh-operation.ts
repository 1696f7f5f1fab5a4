import { randomBytes } from 'node:crypto';
import { CancelledFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import { ErrorType, type CommandOutput, type CredentialSecret, type RunSshOperationInput } from '@opsc/contracts';
import type { ExecutionDeps } from '../deps.js';
import { attemptRecorder, commandOutput, performedText, type Performed } from '../remote-result.js';
import { openConnection, scanHostKey, where } from './connect.js';
import type { SshEndpoint } from './endpoints.js';
import { execOnChannel, type ExecOutcome } from './exec.js';
import { RemoteFailure } from '../remote-failure.js';
import { shQuote } from './shell-quote.js';
import { factFn, parseFacts, scriptFor, type RemoteScript } from './linux-scripts.js';
import { checkScriptBody } from './check-scripts.js';
import { bootIdScript, isBootId, powerScript, waitForNewBoot } from './power.js';
import { notIssuedAgain, powerStart, requireBefore, type PowerIssued } from '../power-attempt.js';
import {
  asBecome,
  killCommand,
  KILL_GRACE_SECONDS,
  SUDO_REFUSAL,
  thenAsLoginUser,
  wrapScript,
  type Become,
} from './remote-command.js';
import {
  download,
  fetchDestination,
  installScript,
  removeStaging,
  stagingRemoval,
  uploadToStaging,
} from './transfer.js';
import { outputLineKey, skipFactLines } from '../output-lines/sink.js';
import { runMarkerKey } from '../run-marker.js';
import { transferReporter } from '../transfer-progress.js';
import {
  changesLinuxTarget,
  FORWARD_STILL_RUNS_EXIT,
  START_UNKNOWN_EXIT,
  stopUnreportedRunScript,
  withRunMarker,
} from './run-marker-script.js';

const HEARTBEAT_EVERY_MS = 1_000;

/** Everything that makes two connections different; a rotated credential or a moved host gets a new one. */
const poolKey = (e: SshEndpoint): string =>
  [e.targetId, e.host, e.port, e.username, e.credentialFingerprint, e.hostKeyPolicy].join('|');

const sudoPassword = (secret: CredentialSecret): string | undefined =>
  secret.kind === 'password' ? secret.password : secret.kind === 'ssh-key' ? secret.sudoPassword : undefined;

export const createRunSshOperation = (deps: ExecutionDeps) => {
  const { ssh } = deps;
  const connectDeps = {
    hostKeys: ssh.hostKeys,
    openSecret: ssh.openSecret,
    readyTimeoutMs: ssh.readyTimeoutMs,
    keepaliveIntervalMs: ssh.keepaliveIntervalMs,
  };

  return async (input: RunSshOperationInput): Promise<CommandOutput> => {
    const ctx = Context.current();
    const startedAt = new Date();
    const progress: { stdoutBytes: number; stderrBytes: number; transferredBytes: number; power?: PowerIssued } = {
      stdoutBytes: 0,
      stderrBytes: 0,
      transferredBytes: 0,
    };
    const heartbeat = setInterval(() => ctx.heartbeat(progress), HEARTBEAT_EVERY_MS);
    const { operation } = input;
    const nonce = randomBytes(8).toString('hex');
    const save = attemptRecorder(deps, input, 'ssh', ctx.info.attempt, startedAt);
    const lines = deps.lines.open(outputLineKey(input, ctx.info.attempt), { skipLine: skipFactLines(nonce) });

    try {
      const endpoint = await ssh.findEndpoint(input.jobId, input.target.id);
      const key = poolKey(endpoint);
      const connect = () => openConnection(endpoint, connectDeps);
      let become: Become = 'none';
      let stdin: string | undefined;
      if (input.become) {
        const password = sudoPassword(await ssh.openSecret(endpoint.credentialId));
        become = password === undefined ? 'sudo-nopasswd' : 'sudo-password';
        if (password !== undefined) stdin = `${password}\n`;
      }

      /** Set once a command's channel is open: from then on a detached runner may read a staged upload. */
      let mayHaveStarted = false;
      const markerKey = () => runMarkerKey(input, ctx.info.attempt);
      /** Runs a script under the wrapper and turns transport-level outcomes into classified failures; `streamed` output goes to the live log. */
      const runScript = async (remote: RemoteScript, streamed = true, after?: string): Promise<Performed> => {
        const wrapped = wrapScript(remote, { timeoutSeconds: input.timeoutSeconds, nonce, become });
        const outcome: ExecOutcome = await ssh.pool.withChannel(key, connect, (client) =>
          execOnChannel(client, {
            command: after === undefined ? wrapped : thenAsLoginUser(wrapped, after),
            ...(stdin !== undefined && { stdin }),
            nonce,
            captureCapBytes: deps.limits.storeCapBytes,
            deadlineMs: (input.timeoutSeconds + KILL_GRACE_SECONDS + 10) * 1000,
            signal: ctx.cancellationSignal,
            onData: (stream, bytes) => {
              progress[stream === 'stdout' ? 'stdoutBytes' : 'stderrBytes'] += bytes;
            },
            ...(streamed && { onOutput: (stream: 'stdout' | 'stderr', chunk: Buffer) => lines.write(stream, chunk) }),
            onOpen: () => {
              mayHaveStarted = true;
            },
            // Stopped before the pid line came: the run folder names the group, if a runner started.
            ...(remote.detached && {
              killUnreported: async () => {
                await execOnChannel(client, {
                  command: asBecome(stopUnreportedRunScript(markerKey(), input.become), become),
                  ...(stdin !== undefined && { stdin }),
                  nonce,
                  captureCapBytes: 4096,
                  deadlineMs: 15_000,
                  kill: async () => undefined,
                });
              },
            }),
            kill: async (pgid) => {
              await execOnChannel(client, {
                command: killCommand(pgid, become),
                ...(stdin !== undefined && { stdin }),
                nonce,
                captureCapBytes: 4096,
                deadlineMs: 15_000,
                kill: async () => undefined,
              });
            },
          }),
        );
        const rawStdout = outcome.stdout.text();
        const { stdout, facts } = remote.reportsFacts ? parseFacts(rawStdout, nonce) : { stdout: rawStdout, facts: {} };
        const performed: Performed = {
          exitCode: outcome.exitCode,
          signal: outcome.signal,
          stdout,
          stderr: outcome.stderr.text(),
          stdoutBytes: outcome.stdout.totalBytes,
          stderrBytes: outcome.stderr.totalBytes,
          stdoutTruncated: outcome.stdout.truncated,
          stderrTruncated: outcome.stderr.truncated,
          facts,
        };
        const fail = async (type: ErrorType, message: string): Promise<never> => {
          await save(performed, { type, message });
          throw new RemoteFailure(type, message, { recorded: true });
        };
        if (outcome.aborted) {
          await save(performed, {
            type: ErrorType.Cancelled,
            message: 'cancelled; the remote process group was killed',
          });
          throw new CancelledFailure('cancelled while running');
        }
        const remoteTimeout = outcome.exitCode === 124 && outcome.durationMs >= input.timeoutSeconds * 1000 - 250;
        if (outcome.timedOut || remoteTimeout)
          return fail(
            ErrorType.Timeout,
            `timed out after ${input.timeoutSeconds}s on ${endpoint.targetName}; the remote process was stopped`,
          );
        if (remote.detached && outcome.pgid === null && outcome.exitCode === START_UNKNOWN_EXIT) {
          return fail(
            ErrorType.ConnectionLost,
            `the change did not report its start on ${endpoint.targetName} in time and was given up; it may or may not have run, a retry finds out`,
          );
        }
        if (remote.detached && outcome.pgid === null && outcome.exitCode === FORWARD_STILL_RUNS_EXIT) {
          return fail(
            ErrorType.Timeout,
            `the change this undoes still runs on ${endpoint.targetName}; the undo did not start`,
          );
        }
        if (outcome.connectionLost)
          return fail(ErrorType.ConnectionLost, `the connection to ${where(endpoint)} dropped while the command ran`);
        if (
          become !== 'none' &&
          outcome.pgid === null &&
          outcome.exitCode !== 0 &&
          SUDO_REFUSAL.test(performed.stderr)
        ) {
          const reason = performed.stderr.split('\n').find((l) => l.trim()) ?? 'refused';
          return fail(ErrorType.AuthFailed, `sudo refused on ${endpoint.targetName}: ${reason.trim()}`);
        }
        return performed;
      };

      /** A change runs under its run marker: a retry of this step on this target reports the first run's result. */
      const once = (remote: RemoteScript): RemoteScript =>
        changesLinuxTarget(operation)
          ? withRunMarker(remote, markerKey(), { nonce, become: input.become, timeoutSeconds: input.timeoutSeconds })
          : remote;

      let performed: Performed;
      switch (operation.op) {
        case 'host-key-enrol': {
          const presented = await scanHostKey(endpoint, ssh.readyTimeoutMs);
          const before = await ssh.hostKeys.get(endpoint.targetId);
          const pinned = before ?? (await ssh.hostKeys.pin(endpoint.targetId, presented, 'enrolment'));
          if (pinned.publicKey !== presented.publicKey) {
            throw new RemoteFailure(
              ErrorType.HostKeyMismatch,
              `the host key of ${where(endpoint)} changed: pinned ${pinned.fingerprint}, presented ${presented.fingerprint}`,
            );
          }
          const text = `${before ? 'already pinned' : 'pinned'}: ${presented.algorithm} ${presented.fingerprint}\n`;
          lines.writeText('stdout', text);
          performed = performedText(text, {
            algorithm: presented.algorithm,
            fingerprint: presented.fingerprint,
            pinned: before ? 'unchanged' : 'new',
          });
          break;
        }
        case 'file-copy': {
          const artifact = await ssh.artifacts.open(input.jobId, operation.source, operation.sha256);
          const sha256 = artifact.sha256;
          // The bytes sent so far go to the live output, a few times a second, and a last time when all are sent.
          const upload = transferReporter(lines, 'upload', artifact.bytes);
          const staged = await ssh.pool.withSftp(key, connect, (sftp) =>
            uploadToStaging(sftp, artifact.file, (done) => {
              progress.transferredBytes = done;
              upload.update(done);
            }),
          );
          upload.done();
          let removed = false;
          try {
            // The runner removes the staged upload once the change has ended; the session does too,
            // as the login user (a sticky /tmp), after the run. Over SFTP only when no command ran.
            const install = installScript(operation, staged.file, sha256, { ...input, nonce });
            performed = await runScript(
              once({ ...install, cleanup: stagingRemoval(staged) }),
              true,
              stagingRemoval(staged),
            );
            removed = true;
          } finally {
            if (!removed && !mayHaveStarted)
              await ssh.pool.withSftp(key, connect, (sftp) => removeStaging(sftp, staged)).catch(() => undefined);
          }
          break;
        }
        case 'service-check':
        case 'package-check':
        case 'file-check':
        case 'file-restore-check':
        case 'config-backup-check':
        case 'config-restore-check': {
          // Check mode: read-only, no run marker. A file check compares with the SHA-256 the plan pins,
          // once the store is seen to hold that version: the artifact is never fetched (no approval).
          const sha256 =
            operation.op === 'file-check'
              ? await ssh.artifacts.pinned(input.jobId, operation.source, operation.sha256)
              : undefined;
          const body = checkScriptBody(operation, sha256);
          performed = await runScript({ shell: 'sh', reportsFacts: true, script: `${factFn(nonce)}\n${body}\n` });
          break;
        }
        case 'file-fetch': {
          const destination = fetchDestination(ssh.artifactDir, operation, input.jobId, endpoint.targetName);
          const remoteSha = async () => {
            const r = await runScript(
              { shell: 'sh', reportsFacts: false, script: `sha256sum -- ${shQuote(operation.source)} | cut -d' ' -f1` },
              false,
            );
            if (r.exitCode !== 0)
              throw new RemoteFailure(
                ErrorType.CommandFailed,
                `could not hash ${operation.source}: ${r.stderr.trim()}`,
              );
            return r.stdout.trim();
          };
          let fetching: ReturnType<typeof transferReporter> | undefined;
          const got = await ssh.pool.withSftp(key, connect, (sftp) =>
            download(sftp, operation, destination, remoteSha, (done, total) => {
              progress.transferredBytes = done;
              (fetching ??= transferReporter(lines, 'download', total)).update(done);
            }),
          );
          fetching?.done();
          const text = `fetched ${operation.source} (${got.bytes} bytes, sha256 ${got.sha256})\n`;
          lines.writeText('stdout', text);
          performed = performedText(text, { sha256: got.sha256, bytes: String(got.bytes), path: destination });
          break;
        }
        case 'reboot':
        case 'shutdown': {
          const { op } = operation;
          // Issued at most once: a retry finds the record an earlier attempt heartbeat, and only waits.
          const start = powerStart(ctx.info.attempt, ctx.info.heartbeatDetails, op, endpoint.targetName);
          let scheduled: Performed;
          if (start.issue) {
            const before =
              op === 'reboot'
                ? requireBefore(
                    (await runScript(bootIdScript, false)).stdout.trim(),
                    isBootId,
                    'boot id',
                    where(endpoint),
                  )
                : '';
            progress.power = { op, attempt: ctx.info.attempt, issuedAt: new Date().toISOString(), before };
            ctx.heartbeat(progress);
            scheduled = await runScript(powerScript(op, nonce)).catch((err: unknown) => {
              // The host may have gone down under the command: whether it rebooted, the wait finds out.
              if (op !== 'reboot' || !(err instanceof RemoteFailure) || err.type !== ErrorType.ConnectionLost)
                throw err;
              const text = `the connection dropped while the reboot was issued (${err.message}); waiting for the host\n`;
              lines.writeText('stdout', text);
              return performedText(text, { boot_id: before });
            });
          } else {
            progress.power = start.earlier;
            const text = `${notIssuedAgain(start.earlier)}\n`;
            lines.writeText('stdout', text);
            scheduled = performedText(text, {
              boot_id: start.earlier.before,
              issued_by_attempt: String(start.earlier.attempt),
            });
          }
          performed = scheduled;
          if (op === 'shutdown' || scheduled.exitCode !== 0) break;
          const before = progress.power.before;
          const back = await waitForNewBoot({
            endpoint,
            connectDeps,
            before,
            timeoutSeconds: operation.timeoutSeconds,
            signal: ctx.cancellationSignal,
            nonce,
          }).catch(async (err: unknown) => {
            if (err instanceof RemoteFailure) await save(scheduled, { type: err.type, message: err.message });
            // The reboot ran: its record says so even when the wait for the host is cancelled.
            if (err instanceof CancelledFailure)
              await save(scheduled, { type: ErrorType.Cancelled, message: err.message }).catch(() => undefined);
            throw err instanceof RemoteFailure
              ? new RemoteFailure(err.type, err.message, { recorded: true, final: true })
              : err;
          });
          const text = `${endpoint.targetName} is back after ${back.seconds} s: boot id ${before} -> ${back.bootId}\n`;
          lines.writeText('stdout', text);
          performed = {
            ...scheduled,
            stdout: scheduled.stdout + text,
            stdoutBytes: scheduled.stdoutBytes + Buffer.byteLength(text),
            facts: {
              ...scheduled.facts,
              boot_id_before: before,
              boot_id: back.bootId,
              back_after_seconds: String(back.seconds),
            },
          };
          break;
        }
        default:
          performed = await runScript(once(scriptFor(operation, { jobId: input.jobId, stepId: input.stepId, nonce })));
      }

      await lines.close();
      await save(performed);
      return commandOutput(performed, deps.limits.resultCapBytes, startedAt);
    } catch (err) {
      if (err instanceof RemoteFailure) {
        if (!err.recorded) await save({}, { type: err.type, message: err.message }).catch(() => undefined);
        throw err.toApplicationFailure();
      }
      throw err;
    } finally {
      clearInterval(heartbeat);
      await lines.close();
    }
  };
};
