import { z } from 'zod';
import { SafeArg } from './safe-text.js';

/*
 * The operations the executor performs on Linux targets over SSH. Every parameter is typed and
 * checked here, and the executor still single-quotes each one into the script it sends: a value is
 * never spliced into a shell command raw, whoever wrote the plan.
 */

/** A systemd unit or SysV service name. */
export const ServiceName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9@._:-]{0,127}$/, {
  message: 'must be a service name (letters, digits and @ . _ : -)',
});

/** A process name as `pgrep` matches it. */
export const ProcessName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/, {
  message: 'must be a process name (letters, digits and . _ + -)',
});

/** A deb or rpm package name. */
export const PackageName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9+._-]{0,127}$/, {
  message: 'must be a package name (letters, digits and + . _ -)',
});

/** A deb or rpm version string (epoch:upstream-revision). */
export const PackageVersion = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.+~:_-]{0,127}$/, {
  message: 'must be a package version (letters, digits and . + ~ : _ -)',
});

/** An absolute path on the target: no `..` segments, no line breaks or NULs. */
export const RemotePath = z
  .string()
  .max(4096)
  .regex(/^\/[^\0\r\n]*$/, { message: 'must be an absolute path without line breaks' })
  .refine((p) => !p.split('/').includes('..'), { message: 'must not contain .. segments' });

/**
 * A relative path (letters, digits, spaces and . _ + - /, no empty, . or .. segments): the name of
 * an uploaded artifact (what file-copy sends), or where file-fetch puts a file in the executor's folder.
 */
export const ArtifactPath = z
  .string()
  .max(1024)
  .regex(/^[A-Za-z0-9._+-][A-Za-z0-9._+ /-]*$/, {
    message: 'must be a relative path (letters, digits, spaces and . _ + - /)',
  })
  .refine((p) => !p.split('/').some((part) => part === '..' || part === '.' || part === ''), {
    message: 'must not contain empty, . or .. segments',
  });

/** An artifact's name in the tenant's store: an `ArtifactPath` of at most 255 characters. */
export const ArtifactName = ArtifactPath.refine((n) => n.length <= 255, { message: 'must be at most 255 characters' });

/** A SHA-256 digest in lower-case hex. */
export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, { message: 'must be a SHA-256 in lower-case hex' });

/** A user or group name on the target. */
export const PosixName = z.string().regex(/^[a-z_][a-z0-9_-]{0,31}\$?$/, { message: 'must be a user or group name' });

/** A file mode in octal, e.g. `0644`. */
export const FileMode = z.string().regex(/^0?[0-7]{3,4}$/, { message: 'must be an octal mode such as 0644' });

const WaitSeconds = z.number().int().min(1).max(3_600);
/** How long a reboot waits for the host to come back. */
export const RebootWaitSeconds = z.number().int().min(10).max(3_600);

export const LinuxOperation = z.discriminatedUnion('op', [
  /** A program and its arguments, each quoted. */
  z.strictObject({ op: z.literal('run'), argv: z.array(SafeArg).min(1).max(64) }),
  /** A script the operator wrote, passed to the shell as one quoted argument. Its risk is the operator's call. */
  z.strictObject({
    op: z.literal('script'),
    script: z.string().min(1).max(65_536),
    shell: z.enum(['sh', 'bash']).default('bash'),
  }),
  z.strictObject({
    op: z.literal('service'),
    action: z.enum(['status', 'start', 'stop', 'restart', 'reload', 'enable', 'disable']),
    name: ServiceName,
  }),
  /** Polls until the service reaches the state; fails when the time is up. */
  z.strictObject({
    op: z.literal('service-wait'),
    name: ServiceName,
    /** `running` and `stopped` are accepted too, as tools that serve Linux and Windows alike say them. */
    state: z
      .enum(['active', 'inactive', 'running', 'stopped'])
      .default('active')
      .transform((s) => (s === 'running' ? 'active' : s === 'stopped' ? 'inactive' : s)),
    timeoutSeconds: WaitSeconds.default(60),
    intervalSeconds: z.number().int().min(1).max(60).default(2),
  }),
  /** Reports whether a process runs; with `expect`, the step fails when it does not match. */
  z.strictObject({
    op: z.literal('process-check'),
    name: ProcessName,
    match: z.enum(['exact', 'full']).default('exact'),
    expect: z.enum(['running', 'stopped']).optional(),
  }),
  /** Package version, install, update or removal with the package manager found on the target (apt, dnf or yum). */
  z
    .strictObject({
      op: z.literal('package'),
      action: z.enum(['version', 'install', 'update', 'remove']),
      name: PackageName,
      version: PackageVersion.optional(),
    })
    .refine((o) => o.version === undefined || o.action === 'install', {
      message: 'a version can only be given to install',
      path: ['version'],
    }),
  z.strictObject({ op: z.literal('disk-usage'), path: RemotePath.default('/') }),
  /**
   * Copies an uploaded artifact to the target over SFTP, verified by SHA-256; an existing destination is
   * backed up first. `sha256` is the version the plan pinned when it was validated; the executor copies
   * that version only (and refuses a copy that pins none).
   */
  z.strictObject({
    op: z.literal('file-copy'),
    source: ArtifactName,
    sha256: Sha256Hex.optional(),
    destination: RemotePath,
    mode: FileMode.optional(),
    owner: PosixName.optional(),
    group: PosixName.optional(),
    backup: z.boolean().default(true),
  }),
  /** Fetches a file from the target into the artifact folder, verified by SHA-256. */
  z.strictObject({ op: z.literal('file-fetch'), source: RemotePath, destination: ArtifactPath }),
  /** Undoes a file-copy: puts the backup back, or removes the file when there was none. */
  z.strictObject({
    op: z.literal('file-restore'),
    destination: RemotePath,
    backup: z.preprocess((v) => (v === '' ? null : v), RemotePath.nullable()),
  }),
  /** Archives paths with tar; the archive path is reported for the restore. */
  z.strictObject({
    op: z.literal('config-backup'),
    paths: z.array(RemotePath).min(1).max(50),
    archive: RemotePath.optional(),
  }),
  z.strictObject({ op: z.literal('config-restore'), archive: RemotePath }),
  /**
   * Reboots the target: the reboot is scheduled apart from the session (the command returns before
   * the connection drops), then the step waits until the host answers again with another boot id,
   * and fails when `timeoutSeconds` pass first. Nothing undoes it.
   */
  z.strictObject({ op: z.literal('reboot'), timeoutSeconds: RebootWaitSeconds.default(600) }),
  /** Powers the target off, scheduled apart from the session: done once the command is accepted. Nothing undoes it. */
  z.strictObject({ op: z.literal('shutdown') }),
  /*
   * Check mode (read-only): what the change of the same name would do on the target, as facts
   * (`would_change` yes or no, and what it was judged on). Nothing on the target changes.
   */
  /** A service's state now against the state the action wants (`restart`, `reload`: always a change while it runs). */
  z.strictObject({
    op: z.literal('service-check'),
    action: z.enum(['start', 'stop', 'restart', 'reload', 'enable', 'disable']),
    name: ServiceName,
  }),
  /** The installed version against the one the action would leave (the candidate the package manager offers). */
  z
    .strictObject({
      op: z.literal('package-check'),
      action: z.enum(['install', 'update', 'remove']),
      name: PackageName,
      version: PackageVersion.optional(),
    })
    .refine((o) => o.version === undefined || o.action === 'install', {
      message: 'a version can only be given to install',
      path: ['version'],
    }),
  /** The destination's SHA-256 against the artifact's, and whether a backup would be made. */
  z.strictObject({
    op: z.literal('file-check'),
    source: ArtifactName,
    /** The version the plan pinned, as the file-copy it checks. */
    sha256: Sha256Hex.optional(),
    destination: RemotePath,
    backup: z.boolean().default(true),
  }),
  /** Whether putting the backup back (or removing the file) would change the destination. */
  z.strictObject({
    op: z.literal('file-restore-check'),
    destination: RemotePath,
    backup: z.preprocess((v) => (v === '' ? null : v), RemotePath.nullable()),
  }),
  /** Which of the paths exist: a backup always writes a new archive. */
  z.strictObject({ op: z.literal('config-backup-check'), paths: z.array(RemotePath).min(1).max(50) }),
  /** Whether the archive's files differ from those on the target (`tar --diff`). */
  z.strictObject({ op: z.literal('config-restore-check'), archive: RemotePath }),
  /** Pins the target's SSH host key (the explicit enrolment `strict` targets need), like ssh-keyscan. */
  z.strictObject({ op: z.literal('host-key-enrol') }),
]);
export type LinuxOperation = z.infer<typeof LinuxOperation>;

/** The read-only operations check mode runs in place of a change (see `StepCheck`). */
export const LINUX_CHECK_OPS: ReadonlySet<LinuxOperation['op']> = new Set([
  'service-check',
  'package-check',
  'file-check',
  'file-restore-check',
  'config-backup-check',
  'config-restore-check',
]);
export type LinuxOperationInput = z.input<typeof LinuxOperation>;

/** Where config backups go when the step names no archive. */
export const DEFAULT_BACKUP_DIR = '/var/backups/opsc';

/** How the executor treats a target's SSH host key. */
export const HostKeyPolicy = z.enum(['strict', 'accept-new']);
export type HostKeyPolicy = z.infer<typeof HostKeyPolicy>;
