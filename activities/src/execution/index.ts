import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import {
  databaseFields,
  httpFields,
  localCommandFields,
  sshFields,
  winrmFields,
  type ActionContext,
  type ExecutionMethod,
  type ExecutorActivities,
  type FailureDetails,
} from '@opsc/contracts';
import type { ExecutionDeps } from './deps.js';
import { createSendHttpRequest } from './http-request.js';
import { createRunLocalCommand } from './local-command.js';
import { createRunSshOperation } from './ssh/run-ssh-operation.js';
import { createRunWinrmOperation } from './winrm/run-winrm-operation.js';
import { createRunDatabaseQuery } from './database/run-database-query.js';
import { redactingActivity, redactingLines, redactingStore } from './redacting.js';
import { allowOutageWait } from './outage/database-outage.js';
import { createDeliverNotification } from './notify/deliver-notification.js';
import { inTargetSpan } from './target-span.js';

/** Time the action needs past its own limit, to stop a remote process and report. */
const ACTION_RESERVE_MS = 5_000;

export type { DatabaseExecution, ExecutionDeps, ExecutionLimits, SshExecution, WinrmExecution } from './deps.js';
export { createDatabaseExecution } from './database/database-execution.js';
export { createPgOutputStore, type OutputStore, type ExecutionRecord } from './output-store.js';
export {
  createPgOutputLineSink,
  type OutputLineStats,
  type PgOutputLineOptions,
  type PgOutputLineSink,
} from './output-lines/pg-output-lines.js';
export { LineSplitter, MAX_LINE_BYTES } from './output-lines/line-splitter.js';
export {
  discardOutputLines,
  type AttemptOutput,
  type OutputLineKey,
  type OutputLineSink,
  type OutputStream,
} from './output-lines/sink.js';
export { SshPool, type SshPoolOptions } from './ssh/pool.js';
export { createPgHostKeyStore, describeHostKey, type HostKey, type HostKeyStore } from './ssh/host-keys.js';
export { findSshEndpoint, type SshEndpoint } from './ssh/endpoints.js';
export { openConnection, type ConnectDeps } from './ssh/connect.js';
export { execOnChannel } from './ssh/exec.js';
export { wrapScript } from './ssh/remote-command.js';
export {
  NtlmClient,
  NtlmServer,
  NtlmSession,
  ntowfv2,
  type NtlmCredentials,
  type PasswordLookup,
} from './winrm/ntlm/ntlm.js';
export {
  ENCRYPTED_CONTENT_TYPE,
  MessageEncryptionError,
  decryptMessage,
  encryptMessage,
  isEncryptedContentType,
} from './winrm/message-encryption.js';
export { createSshExecution, type SshSettings } from './ssh/ssh-execution.js';
export { createWinrmExecution, type WinrmSettings } from './winrm/winrm-execution.js';
export { WinrmPool, type WinrmPoolOptions } from './winrm/pool.js';
export {
  WinrmConnection,
  WsmanFaultError,
  endpointUrl,
  type WinrmAuth,
  type WinrmEndpoint,
} from './winrm/transport.js';
export {
  runRemoteCommand,
  maxSendBytes,
  type RemoteCommand,
  type RemoteOutcome,
  type ShellSettings,
} from './winrm/remote-shell.js';
export { findWinrmEndpoint } from './winrm/endpoints.js';
export { powershellInvocation, psQuote, readableStderr } from './winrm/powershell.js';
export { windowsScriptFor, powershellScriptFor, BODY_MARKER } from './winrm/windows-scripts.js';
export { bootTimeMs, windowsPowerScript } from './winrm/power.js';
export { powerScript } from './ssh/power.js';
export { changesWindowsTarget, WINDOWS_RUNS_DIR } from './winrm/run-marker-envelope.js';
export { changesLinuxTarget, ROOT_RUNS_DIR, USER_RUNS_DIR, withRunMarker } from './ssh/run-marker-script.js';
export { runMarkerKey, MARKER_RETENTION_DAYS, type RunMarkerKey } from './run-marker.js';
export { artifactStdin } from './winrm/copy-stdin.js';
export {
  artifactCacheDir,
  createArtifactSource,
  pruneArtifactCache,
  DEFAULT_ARTIFACT_CACHE,
  type ArtifactCacheLimits,
  type ArtifactSource,
  type OpenedArtifact,
} from './artifact-source.js';
export { stageScriptFor, stagedPathFor, WINDOWS_STAGING_DIR } from './winrm/stage-script.js';
export {
  createSandbox,
  findProgram,
  findSandboxUser,
  SandboxUnavailable,
  type Sandbox,
  type SandboxSettings,
  type SandboxStatus,
  type SandboxUser,
} from './sandbox/sandbox.js';
export { sandboxArgs, PRIVATE_DIRS, type SandboxSpec } from './sandbox/sandbox-args.js';
export {
  checkLocalPrograms,
  PROGRAM_REPORT_TTL_SECONDS,
  reportLocalPrograms,
  reportPresence,
  type ProgramCheck,
} from './sandbox/local-programs.js';
export {
  createEgressGuard,
  hostAddresses,
  systemResolver,
  type EgressGuard,
  type EgressScope,
  type ResolvedAddress,
  type Resolver,
} from './egress/egress-guard.js';
export { platformServices, serviceRuleText } from './egress/platform-services.js';
export { tenantEgressRules } from './egress/tenant-egress.js';
export { createRedactor, executorSecrets, noRedaction, REDACTED, type Redactor } from './redaction.js';
export { createNotificationExecution } from './notify/notification-execution.js';
export { createNotificationGate, type NotificationGate } from './notify/notification-gate.js';
export { signWebhook, slackBody } from './notify/send-http.js';
export type { NotificationExecution } from './notify/deliver-notification.js';
export { createJobGate, type ExecutionRequest, type JobGate, type JobGateOptions } from './job-gate.js';
export { createOutageWait, isDatabaseOutage, type OutageWait, type OutageWaitStats } from './outage/database-outage.js';
export {
  createResultOutbox,
  type ResultOutbox,
  type ResultOutboxOptions,
  type ResultOutboxStats,
} from './outage/result-outbox.js';
export {
  createLookupCache,
  withLookupCache,
  type Executions,
  type LookupCache,
  type LookupCacheOptions,
} from './outage/lookup-cache.js';

/**
 * The executor's activities, checked against the contract the workflows proxy. What they store,
 * stream and return passes the redactor: no executor secret leaves in output.
 */
export const createExecutionActivities = (given: ExecutionDeps) => {
  const { redact, jobGate } = given;
  const deps: ExecutionDeps = {
    ...given,
    store: redactingStore(given.store, redact),
    lines: redactingLines(given.lines, redact),
  };
  /** Nothing runs before the gate has matched the request to an approved job's plan. */
  /**
   * A failure of a retry says so (`FailureDetails.attempt`): an earlier attempt may have changed the
   * target before it was lost, so the job must not read this attempt's refusal as "nothing ran".
   */
  const afterEarlierAttempts = (err: unknown, attempt: number): unknown =>
    err instanceof ApplicationFailure && attempt > 1
      ? ApplicationFailure.create({
          message: err.message,
          ...(err.type && { type: err.type }),
          nonRetryable: err.nonRetryable === true,
          details: [{ attempt } satisfies FailureDetails],
        })
      : err;
  const gated =
    <I extends ActionContext, O>(
      method: ExecutionMethod,
      fieldsOf: (input: I) => Record<string, unknown>,
      activity: (input: I) => Promise<O>,
    ) =>
    async (input: I): Promise<O> => {
      // A standalone activity has no workflow: it answers to none and is refused.
      const ctx = Context.current();
      const workflowId = ctx.info.workflowExecution?.workflowId ?? '';
      // A database outage before the action starts may be waited out while the action still has its whole time limit.
      const actionMs = (typeof input.timeoutSeconds === 'number' ? input.timeoutSeconds : 0) * 1000 + ACTION_RESERVE_MS;
      allowOutageWait(ctx, Date.now() + ctx.info.startToCloseTimeoutMs - actionMs);
      try {
        await jobGate.admit({
          workflowId,
          jobId: input.jobId,
          stepId: input.stepId,
          target: input.target,
          timeoutSeconds: input.timeoutSeconds,
          ...(input.rerun !== undefined && { rerun: input.rerun }),
          method,
          fields: fieldsOf(input),
        });
        return await inTargetSpan(method, input, () => activity(input));
      } catch (err) {
        throw afterEarlierAttempts(err, ctx.info.attempt);
      }
    };
  return {
    runLocalCommand: redactingActivity(gated('local-command', localCommandFields, createRunLocalCommand(deps)), redact),
    sendHttpRequest: redactingActivity(gated('http', httpFields, createSendHttpRequest(deps)), redact),
    runSshOperation: redactingActivity(gated('ssh', sshFields, createRunSshOperation(deps)), redact),
    runWinrmOperation: redactingActivity(gated('winrm', winrmFields, createRunWinrmOperation(deps)), redact),
    runDatabaseQuery: redactingActivity(gated('database', databaseFields, createRunDatabaseQuery(deps)), redact),
    deliverNotification: createDeliverNotification(deps.notifications),
  } satisfies ExecutorActivities;
};
