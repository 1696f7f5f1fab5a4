import type { CredentialSecret } from '@opsc/contracts';
import type { ArtifactSource } from './artifact-source.js';
import type { EgressGuard } from './egress/egress-guard.js';
import type { JobGate } from './job-gate.js';
import type { NotificationExecution } from './notify/deliver-notification.js';
import type { OutputStore } from './output-store.js';
import type { Redactor } from './redaction.js';
import type { Sandbox } from './sandbox/sandbox.js';
import type { OutputLineSink } from './output-lines/sink.js';
import type { SecretOpener } from './secrets.js';
import type { TargetServiceRow } from './target-service.js';
import type { SshEndpoint } from './ssh/endpoints.js';
import type { HostKeyStore } from './ssh/host-keys.js';
import type { SshPool } from './ssh/pool.js';
import type { WinrmPool } from './winrm/pool.js';
import type { ShellSettings } from './winrm/remote-shell.js';
import type { WinrmEndpoint } from './winrm/transport.js';

export interface ExecutionLimits {
  /** Bytes of each output stream returned into workflow history. */
  resultCapBytes: number;
  /** Bytes of each output stream kept in PostgreSQL. */
  storeCapBytes: number;
}

/** What SSH execution needs: the connection pool, pinned host keys, the vault, the inventory. */
export interface SshExecution {
  pool: SshPool;
  hostKeys: HostKeyStore;
  /** Opens a credential's secret for immediate use; nothing keeps it. */
  openSecret: (credentialId: string) => Promise<CredentialSecret>;
  /** The job's target as an SSH endpoint (refusing another tenant's targets). */
  findEndpoint: (jobId: string, targetId: string) => Promise<SshEndpoint>;
  /** Where file-fetch results are written to (and the artifact store's local copies are kept). */
  artifactDir: string;
  /** file-copy's bytes: the version the plan pins, from the tenant's artifact store. */
  artifacts: ArtifactSource;
  readyTimeoutMs: number;
  keepaliveIntervalMs: number;
}

export interface ExecutionDeps {
  /** What may run at all: only what an approved job of the platform asks for (see `createJobGate`). */
  jobGate: JobGate;
  store: OutputStore;
  /** Output lines as they are read, for live logs (the store keeps each attempt's whole output at its end). */
  lines: OutputLineSink;
  limits: ExecutionLimits;
  /** Programs `local-command` may start (names or absolute paths); anything else is refused. */
  allowedLocalCommands: ReadonlySet<string>;
  /** Where local commands run: bubblewrap, as an unprivileged user, with no view of the executor. */
  sandbox: Sandbox;
  /** Where http steps and network diagnostics may go, judged at connect time. */
  egress: EgressGuard;
  /** Takes the executor's own secrets (vault key, database password) out of all output it stores or returns. */
  redact: Redactor;
  ssh: SshExecution;
  winrm: WinrmExecution;
  database: DatabaseExecution;
  /** Notification delivery: its own gate (genuine notification workflows only), channel secrets, egress. */
  notifications: NotificationExecution;
}

/** What database queries need: the targets' PostgreSQL services and the vault. */
export interface DatabaseExecution {
  findService: (jobId: string, targetId: string) => Promise<TargetServiceRow>;
  openSecret: SecretOpener;
}

/** What WinRM execution needs: kept connections, the vault, the inventory, the WS-Management limits. */
export interface WinrmExecution {
  pool: WinrmPool;
  openSecret: SecretOpener;
  /** The job's target as a WinRM endpoint (refusing another tenant's targets). */
  findEndpoint: (jobId: string, targetId: string) => Promise<WinrmEndpoint>;
  /** file-copy's bytes: the version the plan pins, from the tenant's artifact store. */
  artifacts: ArtifactSource;
  connectTimeoutMs: number;
  shell: ShellSettings;
}
