import { WINDOWS_BACKUP_DIR, type WindowsOperation } from '@opsc/contracts';
import type { RunMarkerKey } from '../run-marker.js';
import { psQuote } from './powershell.js';
import { fileCheckBody, fileRestoreCheckBody, serviceCheckBody } from './check-scripts.js';
import { PRIVATE_FOLDER, WINDOWS_OPSC_ROOT } from './private-folder.js';
import {
  changesWindowsTarget,
  DEFAULT_LEASE_SECONDS,
  RUN_MARKER_ENVELOPE,
  WINDOWS_RUNS_DIR,
} from './run-marker-envelope.js';

/**
 * The PowerShell each Windows operation runs. A script is a prologue that assigns every parameter
 * to an `$opsc_<name>` variable as a PowerShell literal (quoted by `psQuote`), then a fixed body
 * that only reads those variables: an operator's value is never part of the code.
 *
 * Facts are stdout lines `@@opsc-<nonce> key=value`; the nonce is random per run, so output cannot
 * forge them. Exit codes: 0 done, 1 failed (the reason on the error stream), 2 a wait timed out,
 * 3 a checksum did not match, 5 access denied.
 */

/** Values a prologue can carry. */
type Literal = string | number | boolean | null | string[];

export interface WindowsScriptContext {
  jobId: string;
  stepId: string;
  nonce: string;
  /** A changing operation's run marker (see run-marker-envelope.ts); without it the body runs as is. */
  marker?: RunMarkerKey;
  /**
   * How long the run marker's lease lasts once taken (the step's timeout and a margin): past it, a
   * later attempt may stop an owner that is still running, as the owner's executor would have.
   */
  leaseSeconds?: number;
}

/** An operation's script, and whether its stdout carries fact lines. */
export interface WindowsScript {
  script: string;
  reportsFacts: boolean;
}

export const BODY_MARKER = '# ---- opsc body ----';

const literal = (value: Literal): string => {
  if (value === null) return '$null';
  if (typeof value === 'boolean') return value ? '$true' : '$false';
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new RangeError(`not an integer: ${value}`);
    return String(value);
  }
  if (Array.isArray(value)) return `@(${value.map(psQuote).join(', ')})`;
  return psQuote(value);
};

/** The prologue: strict errors, the fact function, then one `$opsc_<name> = <literal>` line per value. */
export const prologue = (op: string, nonce: string, values: Record<string, Literal>): string =>
  [
    `$ErrorActionPreference = 'Stop'`,
    `$opsc_op = ${psQuote(op)}`,
    `$opsc_nonce = ${psQuote(nonce)}`,
    ...Object.entries(values).map(([name, value]) => {
      if (!/^[A-Za-z][A-Za-z0-9]*$/.test(name)) throw new RangeError(`bad variable name ${name}`);
      return `$opsc_${name} = ${literal(value)}`;
    }),
    BODY_MARKER,
  ].join('\n');

// Under a run marker, $opsc_facts also keeps each fact for the marker.
export const FACT = `function Write-Fact([string]$Key, [string]$Value) { [Console]::Out.WriteLine("@@opsc-$opsc_nonce $Key=$Value"); if ($null -ne $opsc_facts) { $opsc_facts[$Key] = $Value } }
function Stop-WithError([int]$Code, [string]$Message) { [Console]::Error.WriteLine($Message); exit $Code }`;

const SERVICE_WAIT = `function Wait-ServiceState([string]$Name, [string]$State, [int]$Seconds) {
  $deadline = (Get-Date).AddSeconds($Seconds)
  while ($true) {
    $svc = Get-Service -Name $Name
    if ($svc.Status.ToString() -eq $State) { return $svc }
    if ((Get-Date) -ge $deadline) {
      Write-Fact 'state' $svc.Status
      Stop-WithError 2 "Service $Name did not reach $State within $($Seconds)s (it is $($svc.Status))"
    }
    Start-Sleep -Milliseconds 500
  }
}
function Get-ServiceOrFail([string]$Name) {
  $svc = Get-Service -Name $Name -ErrorAction SilentlyContinue
  if ($null -eq $svc) { Stop-WithError 1 "Cannot find any service with service name '$Name'." }
  return $svc
}`;

const serviceBody = `${SERVICE_WAIT}
$svc = Get-ServiceOrFail $opsc_name
Write-Fact 'before' $svc.Status
$stop = $opsc_action -eq 'stop' -or $opsc_action -eq 'restart'
$start = $opsc_action -eq 'start' -or $opsc_action -eq 'restart'
if ($stop) {
  if ($svc.Status.ToString() -eq 'Stopped') { Write-Output "Service $opsc_name is already stopped" }
  else {
    Write-Output "Stopping service $opsc_name..."
    Stop-Service -Name $opsc_name -Force -NoWait
    $svc = Wait-ServiceState $opsc_name 'Stopped' $opsc_timeoutSeconds
    Write-Output "Service $opsc_name stopped"
  }
}
if ($start) {
  if ($svc.Status.ToString() -eq 'Running') { Write-Output "Service $opsc_name is already running" }
  else {
    Write-Output "Starting service $opsc_name..."
    Start-Service -Name $opsc_name -NoWait
    $svc = Wait-ServiceState $opsc_name 'Running' $opsc_timeoutSeconds
    Write-Output "Service $opsc_name started"
  }
}
if ($opsc_action -eq 'status') { Write-Output "Service $opsc_name is $($svc.Status)" }
Write-Fact 'state' $svc.Status
exit 0`;

const serviceWaitBody = `${SERVICE_WAIT}
$svc = Get-ServiceOrFail $opsc_name
Write-Fact 'before' $svc.Status
$svc = Wait-ServiceState $opsc_name $opsc_state $opsc_timeoutSeconds
Write-Output "Service $opsc_name is $($svc.Status)"
Write-Fact 'state' $svc.Status
exit 0`;

const processCheckBody = `$name = $opsc_name -replace '\\.exe$', ''
$found = @(Get-Process -Name $name -ErrorAction SilentlyContinue)
$running = $found.Count -gt 0
foreach ($p in $found) { Write-Output ("{0} pid {1}" -f $p.ProcessName, $p.Id) }
if (-not $running) { Write-Output "$opsc_name is not running" }
Write-Fact 'running' $running.ToString().ToLower()
Write-Fact 'count' $found.Count
Write-Fact 'pids' (($found | ForEach-Object { $_.Id }) -join ',')
if ($opsc_expect -eq 'running' -and -not $running) { Stop-WithError 1 "$opsc_name is not running" }
if ($opsc_expect -eq 'stopped' -and $running) { Stop-WithError 1 "$opsc_name is running" }
exit 0`;

/**
 * Copies the staged upload (stage-script.ts) to a `.part` beside the destination, hashing as it
 * writes, and removes the staged file; on a matching SHA-256 the replaced file is backed up (once
 * per job and step) and the new one moved in. The copy is a new file in the destination's folder,
 * so it takes that folder's permissions, not the private staging folder's. Nothing here reads
 * stdin: an attempt whose client is gone still finishes, and releases the run marker.
 */
const fileCopyBody = `try {
  $dir = Split-Path -Parent $opsc_destination
  if (-not (Test-Path -LiteralPath $dir -PathType Container)) { New-Item -ItemType Directory -Path $dir -Force | Out-Null }
  $part = Join-Path $dir ('.opsc-' + $opsc_nonce + '.part')
  $sha = [System.Security.Cryptography.SHA256]::Create()
  $in = [System.IO.File]::Open($opsc_staged, [System.IO.FileMode]::Open, [System.IO.FileAccess]::Read, [System.IO.FileShare]::Read)
  $bytes = 0
  try {
    $out = [System.IO.File]::Open($part, [System.IO.FileMode]::Create, [System.IO.FileAccess]::Write)
    try {
      $buffer = New-Object byte[] 1048576
      while (($n = $in.Read($buffer, 0, $buffer.Length)) -gt 0) {
        [void]$sha.TransformBlock($buffer, 0, $n, $null, 0)
        $out.Write($buffer, 0, $n)
        $bytes += $n
      }
      [void]$sha.TransformFinalBlock([byte[]]::new(0), 0, 0)
    } finally { $out.Close() }
  } finally { $in.Close() }
  Remove-Item -LiteralPath $opsc_staged -Force -ErrorAction SilentlyContinue
  $hash = ([BitConverter]::ToString($sha.Hash) -replace '-', '').ToLower()
  Write-Fact 'sha256' $hash
  Write-Fact 'bytes' $bytes
  if ($hash -ne $opsc_sha256) {
    Remove-Item -LiteralPath $part -Force
    Stop-WithError 3 "SHA-256 of the received file is $hash, expected $opsc_sha256"
  }
  $backup = ''
  if (Test-Path -LiteralPath $opsc_destination -PathType Leaf) {
    if ($opsc_backup) {
      $backup = Join-Path $opsc_backupDir (Split-Path -Leaf $opsc_destination)
      if (-not (Test-Path -LiteralPath $backup)) {
        New-Item -ItemType Directory -Path $opsc_backupDir -Force | Out-Null
        Copy-Item -LiteralPath $opsc_destination -Destination $backup -Force
      }
    }
    Write-Fact 'replaced' 'true'
  } else { Write-Fact 'replaced' 'false' }
  Move-Item -LiteralPath $part -Destination $opsc_destination -Force
  Write-Fact 'backup' $backup
  Write-Output "copied $bytes bytes to $opsc_destination (sha256 $hash)"
  exit 0
} catch [System.UnauthorizedAccessException] {
  Remove-Item -LiteralPath $opsc_staged -Force -ErrorAction SilentlyContinue
  Stop-WithError 5 $_.Exception.Message
} catch {
  Remove-Item -LiteralPath $opsc_staged -Force -ErrorAction SilentlyContinue
  if ($part -and (Test-Path -LiteralPath $part)) { Remove-Item -LiteralPath $part -Force -ErrorAction SilentlyContinue }
  Stop-WithError 1 $_.Exception.Message
}`;

const fileRestoreBody = `try {
  if ($null -eq $opsc_backupFile) {
    if (Test-Path -LiteralPath $opsc_destination) { Remove-Item -LiteralPath $opsc_destination -Force; Write-Output "removed $opsc_destination (there was no file before)" }
    else { Write-Output "$opsc_destination is already absent" }
    Write-Fact 'restored' 'removed'
    exit 0
  }
  if (-not (Test-Path -LiteralPath $opsc_backupFile -PathType Leaf)) { Stop-WithError 1 "the backup $opsc_backupFile does not exist" }
  Copy-Item -LiteralPath $opsc_backupFile -Destination $opsc_destination -Force
  Write-Output "restored $opsc_destination from $opsc_backupFile"
  Write-Fact 'restored' 'from-backup'
  exit 0
} catch [System.UnauthorizedAccessException] {
  Stop-WithError 5 $_.Exception.Message
}`;

const LEVELS = { critical: 1, error: 2, warning: 3, information: 4 } as const;

const eventLogBody = `$filter = @{ LogName = $opsc_log; StartTime = (Get-Date).AddMinutes(-$opsc_sinceMinutes) }
if ($null -ne $opsc_level) { $filter.Level = $opsc_level }
if ($null -ne $opsc_provider) { $filter.ProviderName = $opsc_provider }
try {
  $events = @(Get-WinEvent -FilterHashtable $filter -MaxEvents $opsc_maxEvents -ErrorAction Stop)
} catch {
  if ($_.FullyQualifiedErrorId -like 'NoMatchingEventsFound*') { $events = @() } else { Stop-WithError 1 $_.Exception.Message }
}
foreach ($e in $events) {
  $message = ($e.Message -replace '\\s+', ' ').Trim()
  Write-Output ("{0} {1} {2} {3}: {4}" -f $e.TimeCreated.ToUniversalTime().ToString('o'), $e.LevelDisplayName, $e.ProviderName, $e.Id, $message)
}
Write-Fact 'count' $events.Count
exit 0`;

const commandBody = `& $opsc_program @opsc_args
exit $LASTEXITCODE`;

/** Every operation but `powershell` (which runs the operator's script as written) and reboot and shutdown (power.ts). */
export type ScriptedWindowsOperation = Exclude<WindowsOperation, { op: 'powershell' | 'reboot' | 'shutdown' }>;

/**
 * The script for an operation; file-copy also needs the artifact's SHA-256, which the caller
 * computed, and where its upload was staged on the host (stagedPathFor).
 */
export const windowsScriptFor = (
  operation: ScriptedWindowsOperation,
  ctx: WindowsScriptContext,
  extra: { sha256?: string; staged?: string } = {},
): WindowsScript => {
  const build = (values: Record<string, Literal>, body: string): WindowsScript => ({
    script: once(operation, ctx, values, body, 'Stop'),
    reportsFacts: true,
  });
  switch (operation.op) {
    case 'command':
      return build({ program: operation.program, args: operation.args }, commandBody);
    case 'process-check':
      return build({ name: operation.name, expect: operation.expect ?? null }, processCheckBody);
    case 'service':
      return build(
        { action: operation.action, name: operation.name, timeoutSeconds: operation.timeoutSeconds },
        serviceBody,
      );
    case 'service-wait':
      return build(
        {
          name: operation.name,
          state: operation.state === 'running' ? 'Running' : 'Stopped',
          timeoutSeconds: operation.timeoutSeconds,
        },
        serviceWaitBody,
      );
    case 'file-copy': {
      if (!extra.sha256 || !/^[0-9a-f]{64}$/.test(extra.sha256))
        throw new RangeError('file-copy needs the artifact SHA-256');
      if (!extra.staged) throw new RangeError('file-copy needs the path of its staged upload');
      return build(
        {
          destination: operation.destination,
          staged: extra.staged,
          sha256: extra.sha256,
          backup: operation.backup,
          backupDir: windowsBackupDir(ctx.jobId, ctx.stepId),
        },
        fileCopyBody,
      );
    }
    case 'file-restore':
      return build({ destination: operation.destination, backupFile: operation.backup }, fileRestoreBody);
    case 'event-log':
      return build(
        {
          log: operation.log,
          level: operation.level ? LEVELS[operation.level] : null,
          provider: operation.provider ?? null,
          sinceMinutes: operation.sinceMinutes,
          maxEvents: operation.maxEvents,
        },
        eventLogBody,
      );
    case 'service-check':
      return build({ action: operation.action, name: operation.name }, serviceCheckBody);
    case 'file-check':
      if (!extra.sha256 || !/^[0-9a-f]{64}$/.test(extra.sha256))
        throw new RangeError('file-check needs the artifact SHA-256');
      return build(
        { destination: operation.destination, sha256: extra.sha256, backup: operation.backup },
        fileCheckBody,
      );
    case 'file-restore-check':
      return build({ destination: operation.destination, backupFile: operation.backup }, fileRestoreCheckBody);
  }
};

/**
 * An operation's whole script: the prologue, the helpers, then the body itself, or, for a changing
 * operation with a marker key, the body as `$opsc_body` run by the marker envelope.
 */
const once = (
  operation: WindowsOperation,
  ctx: WindowsScriptContext,
  values: Record<string, Literal>,
  body: string,
  bodyErrorAction: 'Stop' | 'Continue',
): string => {
  const { marker } = ctx;
  if (!marker || !changesWindowsTarget(operation))
    return `${prologue(operation.op, ctx.nonce, values)}\n${FACT}\n${body}\n`;
  const withMarker = {
    ...values,
    root: WINDOWS_OPSC_ROOT,
    runs: WINDOWS_RUNS_DIR,
    runJob: marker.jobId,
    runStep: marker.stepId,
    runTarget: marker.targetId,
    attempt: marker.attempt,
    leaseSeconds: ctx.leaseSeconds ?? DEFAULT_LEASE_SECONDS,
    bodyErrorAction,
    body,
  };
  return `${prologue(operation.op, ctx.nonce, withMarker)}\n${FACT}\n${PRIVATE_FOLDER}\n${RUN_MARKER_ENVELOPE}\n`;
};

/**
 * The operator's own PowerShell: as written, or with a marker key under the run marker envelope,
 * where it runs with PowerShell's default error preference (Continue), as it would alone.
 */
export const powershellScriptFor = (
  operation: Extract<WindowsOperation, { op: 'powershell' }>,
  ctx: WindowsScriptContext,
): WindowsScript => ({
  script: ctx.marker ? once(operation, ctx, {}, operation.script, 'Continue') : operation.script,
  reportsFacts: false,
});

/** Where a file-copy step keeps the files it replaced on a target. */
export const windowsBackupDir = (jobId: string, stepId: string): string => `${WINDOWS_BACKUP_DIR}\\${jobId}\\${stepId}`;
