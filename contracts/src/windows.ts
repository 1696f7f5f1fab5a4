import { z } from 'zod';
import { ArtifactName, RebootWaitSeconds, Sha256Hex } from './linux.js';

/*
 * The operations the executor performs on Windows targets over WinRM. Every parameter is typed and
 * checked here, and the executor still PowerShell-quotes each one into the script it sends: a value
 * is never spliced into a command raw, whoever wrote the plan.
 */

/** An absolute Windows path on a drive: `C:\Program Files\App\app.exe`. No `..`, no wildcard or device characters. */
export const WindowsPath = z
  .string()
  .max(1024)
  .regex(/^[A-Za-z]:\\[^\0\r\n<>:"|?*/]*$/, {
    message: 'must be an absolute Windows path such as C:\\Program Files\\App\\app.exe',
  })
  .refine((p) => !p.split('\\').includes('..'), { message: 'must not contain .. segments' });

/** A Windows service name (the short name `Get-Service -Name` takes, not the display name). */
export const WindowsServiceName = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9._@$-]{0,255}$/, {
  message: 'must be a service name (letters, digits and . _ @ $ -)',
});

/** A process image name, with or without `.exe`: `stationcontroller.exe`. */
export const WindowsProcessName = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9 ._+-]{0,254}$/, {
  message: 'must be a process name such as stationcontroller.exe (letters, digits, spaces and . _ + -)',
});

/** A program for `command`: a name found on PATH (`ipconfig`) or an absolute path. */
export const WindowsProgram = z
  .string()
  .max(1024)
  .regex(/^(?:[A-Za-z]:\\)?[A-Za-z0-9_][A-Za-z0-9 ._\\-]*$/, {
    message: 'must be a program name or an absolute path (letters, digits, spaces and . _ - \\)',
  });

/** One argument: PowerShell-quoted when sent, so any text but NUL and line breaks. */
export const WindowsArg = z
  .string()
  .max(8191)
  .regex(/^[^\0\r\n]*$/, { message: 'must not contain line breaks or NUL' });

/** An event log (`System`, `Microsoft-Windows-PowerShell/Operational`) or provider name. */
export const EventLogName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9 ._/-]{0,254}$/, {
  message: 'must be an event log or provider name (letters, digits, spaces and . _ / -)',
});

export const EventLevel = z.enum(['critical', 'error', 'warning', 'information']);
export type EventLevel = z.infer<typeof EventLevel>;

const WaitSeconds = z.number().int().min(1).max(3_600);

export const WindowsOperation = z.discriminatedUnion('op', [
  /** A script the operator wrote, run by Windows PowerShell as written. Its risk is the operator's call. */
  z.strictObject({ op: z.literal('powershell'), script: z.string().min(1).max(262_144) }),
  /** A program and its arguments, run with PowerShell's call operator: each argument quoted, no cmd.exe parsing. */
  z.strictObject({ op: z.literal('command'), program: WindowsProgram, args: z.array(WindowsArg).max(64).default([]) }),
  /** Reports whether a process runs; with `expect`, the step fails when it does not match. */
  z.strictObject({
    op: z.literal('process-check'),
    name: WindowsProcessName,
    expect: z.enum(['running', 'stopped']).optional(),
  }),
  /**
   * Service status, start, stop or restart. A change waits until the service reaches Running or
   * Stopped and fails when `timeoutSeconds` pass first; a service already in the state is left alone.
   */
  z.strictObject({
    op: z.literal('service'),
    action: z.enum(['status', 'start', 'stop', 'restart']),
    name: WindowsServiceName,
    timeoutSeconds: WaitSeconds.default(30),
  }),
  /** Polls until the service reaches the state; fails when the time is up. */
  z.strictObject({
    op: z.literal('service-wait'),
    name: WindowsServiceName,
    state: z.enum(['running', 'stopped']).default('running'),
    timeoutSeconds: WaitSeconds.default(60),
  }),
  /**
   * Copies an artifact to the target in chunks, verified by SHA-256 there; an existing destination
   * is backed up first (once per job and step, so a retry keeps the original) for a rollback.
   */
  z.strictObject({
    op: z.literal('file-copy'),
    source: ArtifactName,
    /** The version the plan pinned (see the Linux file-copy). */
    sha256: Sha256Hex.optional(),
    destination: WindowsPath,
    backup: z.boolean().default(true),
  }),
  /** Undoes a file-copy: puts the backup back, or removes the file when there was none. */
  z.strictObject({
    op: z.literal('file-restore'),
    destination: WindowsPath,
    backup: z.preprocess((v) => (v === '' ? null : v), WindowsPath.nullable()),
  }),
  /**
   * `Restart-Computer -Force`, then the step waits until WinRM answers again with a later
   * LastBootUpTime, and fails when `timeoutSeconds` pass first. Nothing undoes it.
   */
  z.strictObject({ op: z.literal('reboot'), timeoutSeconds: RebootWaitSeconds.default(600) }),
  /** `Stop-Computer -Force`: done once the command is accepted. Nothing undoes it. */
  z.strictObject({ op: z.literal('shutdown') }),
  /* Check mode (read-only): what the change of the same name would do, as facts; nothing changes. */
  /** A service's status now against the status the action wants (`restart`: always a change while it runs). */
  z.strictObject({
    op: z.literal('service-check'),
    action: z.enum(['start', 'stop', 'restart']),
    name: WindowsServiceName,
  }),
  /** The destination's SHA-256 against the artifact's, and whether a backup would be made. */
  z.strictObject({
    op: z.literal('file-check'),
    source: ArtifactName,
    /** The version the plan pinned, as the file-copy it checks. */
    sha256: Sha256Hex.optional(),
    destination: WindowsPath,
    backup: z.boolean().default(true),
  }),
  /** Whether putting the backup back (or removing the file) would change the destination. */
  z.strictObject({
    op: z.literal('file-restore-check'),
    destination: WindowsPath,
    backup: z.preprocess((v) => (v === '' ? null : v), WindowsPath.nullable()),
  }),
  /** Newest events first from one log, filtered by level, provider and age. */
  z.strictObject({
    op: z.literal('event-log'),
    log: EventLogName.default('System'),
    level: EventLevel.optional(),
    provider: EventLogName.optional(),
    sinceMinutes: z.number().int().min(1).max(43_200).default(60),
    maxEvents: z.number().int().min(1).max(1_000).default(50),
  }),
]);
export type WindowsOperation = z.infer<typeof WindowsOperation>;

/** The read-only operations check mode runs in place of a change (see `StepCheck`). */
export const WINDOWS_CHECK_OPS: ReadonlySet<WindowsOperation['op']> = new Set([
  'service-check',
  'file-check',
  'file-restore-check',
]);
export type WindowsOperationInput = z.input<typeof WindowsOperation>;

/** Where file-copy keeps what it replaced: `<dir>\<job>\<step>\<file name>`. */
export const WINDOWS_BACKUP_DIR = 'C:\\ProgramData\\OpsConductor\\backups';
