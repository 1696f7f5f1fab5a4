import { remoteCommandReadOnly, type WindowsOperation } from '@opsc/contracts';
import { ALREADY_DONE, MARKER_RETENTION_DAYS } from '../run-marker.js';
import { NOT_PRIVATE_ADVICE } from './private-folder.js';

/** Where Windows run markers live: `<runs>\<job>\<step>\<target>.json`, machine-wide like the backups beside it. */
export const WINDOWS_RUNS_DIR = 'C:\\ProgramData\\OpsConductor\\runs';

/** Exit code when the marker folder cannot be created or is not private: the change is not made unprotected. */
export const NO_MARKER_FOLDER_EXIT = 70;

/**
 * Exit code of an attempt that stopped an earlier one past its lease: that one was mid-change, so
 * the host may be half-changed and the change is not run again. Recorded in the marker, so every
 * later attempt reports the same; the executor tells it by TAKEN_OVER_FACT, not by the code.
 */
export const TAKEN_OVER_EXIT = 71;

/** The fact line (carrying the run's nonce, so output cannot forge it) saying which attempt was stopped mid-change. */
export const TAKEN_OVER_FACT = 'opsc-taken-over';

/**
 * Operations that change the target, and so must not run twice; reads and waits need no marker. A
 * command is a read only in an argv-exact read-only shape (contracts' remote-commands.ts, the list
 * that also spares it an approval): decided from the typed operation, never from what a plan says.
 */
export const changesWindowsTarget = (op: WindowsOperation): boolean => {
  switch (op.op) {
    case 'command':
      return !remoteCommandReadOnly('winrm', op.program, op.args);
    case 'powershell':
    case 'file-copy':
    case 'file-restore':
      return true;
    case 'service':
      return op.action !== 'status';
    case 'service-wait':
    case 'process-check':
    case 'event-log':
    case 'service-check':
    case 'file-check':
    case 'file-restore-check':
      return false;
    // The host goes down under them: no marker could report their end.
    case 'reboot':
    case 'shutdown':
      return false;
  }
};

/** A lease when the caller names none: a day, so only an owner that is gone is ever taken over early. */
export const DEFAULT_LEASE_SECONDS = 86_400;

/**
 * What a changing operation's script runs after its prologue: the operation body (in `$opsc_body`,
 * a literal like every other value) at most once per job, step and target.
 *
 * The runs folder must be private (private-folder.ts): a lease there names a process to stop and a
 * marker says a change is done, so a folder, lock file or marker some other account owns or may
 * write is refused (exit NO_MARKER_FOLDER_EXIT), never read.
 *
 * The lock is a lease: a lock file opened for writing and shared for reading only, holding the
 * owner's process id, its start time and a deadline (`$opsc_leaseSeconds` after it was taken; Unix
 * milliseconds). Windows closes the file when its process ends, so an owner that is gone frees it
 * by itself; a later attempt reads the lease while the file is held, waits for a live owner, and
 * stops one still running past its deadline (the same process, by id and start time: its executor
 * would have terminated it by then) with every process it started (Stop-Process alone would leave
 * an msiexec or robocopy it runs changing the host). That owner was mid-change, so this attempt
 * does not run the change again: it records and reports TAKEN_OVER_EXIT with TAKEN_OVER_FACT.
 *
 * Under the lease an existing marker is reported instead of running anything: its facts, the line
 * saying so, its exit code (and a staged upload of this attempt is removed). Otherwise the body is
 * written to a `.ps1` beside the marker and invoked with `&`: `exit` in it ends only that script,
 * so its exit code is known here, and output goes straight through. `Write-Fact` also keeps each
 * fact in `$opsc_facts`. When the body has ended (an error that ended it counts, exit code 1; a
 * terminated process writes nothing) the marker is written to a temporary name and moved into
 * place, then markers and folders older than MARKER_RETENTION_DAYS are removed.
 */
export const RUN_MARKER_ENVELOPE = `$opsc_runDir = Join-Path (Join-Path $opsc_runs $opsc_runJob) $opsc_runStep
$opsc_marker = Join-Path $opsc_runDir ($opsc_runTarget + '.json')
$opsc_why = $null
try {
  $opsc_why = Initialize-OpscFolder $opsc_root $opsc_runs
  if ($null -eq $opsc_why) { New-Item -ItemType Directory -Path $opsc_runDir -Force | Out-Null }
} catch { Stop-WithError ${NO_MARKER_FOLDER_EXIT} "opsconductor: cannot write a run marker under $($opsc_runDir): $($_.Exception.Message); a change that a retry could repeat is not made" }
if ($null -ne $opsc_why) { Stop-WithError ${NO_MARKER_FOLDER_EXIT} "opsconductor: will not keep run markers in a folder others control: $opsc_why; ${NOT_PRIVATE_ADVICE}" }
$opsc_lockPath = Join-Path $opsc_runDir ('.' + $opsc_runTarget + '.lock')
function Stop-Untrusted([string]$What, [string]$Path, [string]$Owner) {
  if ($null -ne $opsc_lock) { $opsc_lock.Close() }
  Stop-WithError ${NO_MARKER_FOLDER_EXIT} "opsconductor: the $What $Path belongs to $Owner, not to SYSTEM, Administrators or this account, so it is not trusted; a change that a retry could repeat is not made"
}
function Get-UnixMs([DateTime]$At) { [long][Math]::Floor(($At.ToUniversalTime() - [DateTime]::new(1970, 1, 1, 0, 0, 0, [DateTimeKind]::Utc)).TotalMilliseconds) }
# The process first, so it starts nothing more; then what it started (a child is newer than its parent, so a reused parent id does not match).
function Stop-OpscTree([int]$Id, [DateTime]$Since) {
  Stop-Process -Id $Id -Force -ErrorAction SilentlyContinue
  foreach ($opsc_c in @(Get-CimInstance -ClassName Win32_Process -Filter "ParentProcessId = $Id" -ErrorAction SilentlyContinue)) {
    if ($null -ne $opsc_c.CreationDate -and $opsc_c.CreationDate -ge $Since) { Stop-OpscTree ([int]$opsc_c.ProcessId) $opsc_c.CreationDate }
  }
}
function Save-OpscMarker($Record) {
  $opsc_tmp = $opsc_marker + '.' + $opsc_nonce + '.tmp'
  try {
    [System.IO.File]::WriteAllText($opsc_tmp, (ConvertTo-Json $Record -Compress))
    [System.IO.File]::Move($opsc_tmp, $opsc_marker)
  } catch { [Console]::Error.WriteLine("opsconductor: could not write the run marker $($opsc_marker); a retry would run this again: $($_.Exception.Message)") }
}
function Write-TakenOver($Attempt) {
  [Console]::Out.WriteLine("@@opsc-$opsc_nonce ${TAKEN_OVER_FACT}=$Attempt")
  [Console]::Error.WriteLine("opsconductor: attempt $Attempt was stopped mid-change after its lease ran out; the host may be half-changed, so the change is not run again")
}
$opsc_lock = $null
$opsc_tookOver = $null
while ($null -eq $opsc_lock) {
  try { $opsc_lock = [System.IO.File]::Open($opsc_lockPath, 'OpenOrCreate', 'ReadWrite', 'Read') }
  catch [System.IO.IOException] {
    $opsc_owner = $null
    $opsc_foreign = $null
    $opsc_checked = $false
    try { $opsc_foreign = Get-OpscForeignOwner $opsc_lockPath; $opsc_checked = $true } catch { }
    if ($null -ne $opsc_foreign) { Stop-Untrusted 'lock file' $opsc_lockPath $opsc_foreign }
    if ($opsc_checked) {
      try {
        $opsc_held = [System.IO.File]::Open($opsc_lockPath, 'Open', 'Read', 'ReadWrite')
        try { $opsc_owner = (New-Object System.IO.StreamReader($opsc_held)).ReadToEnd() | ConvertFrom-Json } finally { $opsc_held.Close() }
        if ($null -ne $opsc_owner.pid -and [long]$opsc_owner.deadline -lt (Get-UnixMs ([DateTime]::UtcNow))) {
          $opsc_p = Get-Process -Id ([int]$opsc_owner.pid) -ErrorAction SilentlyContinue
          if ($null -ne $opsc_p -and $null -ne $opsc_p.StartTime -and (Get-UnixMs $opsc_p.StartTime) -eq [long]$opsc_owner.started) {
            [Console]::Error.WriteLine("opsconductor: attempt $($opsc_owner.attempt) (process $($opsc_owner.pid)) holds the run marker past its lease; stopping it and the processes it started")
            $opsc_tookOver = [int]$opsc_owner.attempt
            Stop-OpscTree $opsc_p.Id $opsc_p.StartTime
          }
        }
      } catch { }
    }
    Start-Sleep -Milliseconds 500
  }
}
$opsc_foreign = Get-OpscForeignOwner $opsc_lockPath
if ($null -ne $opsc_foreign) { Stop-Untrusted 'lock file' $opsc_lockPath $opsc_foreign }
$opsc_lease = [System.Text.Encoding]::UTF8.GetBytes((ConvertTo-Json -Compress ([ordered]@{
  pid = $PID
  started = Get-UnixMs (Get-Process -Id $PID).StartTime
  deadline = Get-UnixMs ([DateTime]::UtcNow.AddSeconds($opsc_leaseSeconds))
  attempt = $opsc_attempt
})))
$opsc_lock.SetLength(0)
$opsc_lock.Write($opsc_lease, 0, $opsc_lease.Length)
$opsc_lock.Flush()
if (Test-Path -LiteralPath $opsc_marker -PathType Leaf) {
  $opsc_foreign = Get-OpscForeignOwner $opsc_marker
  if ($null -ne $opsc_foreign) { Stop-Untrusted 'run marker' $opsc_marker $opsc_foreign }
  $opsc_done = Get-Content -LiteralPath $opsc_marker -Raw | ConvertFrom-Json
  if ($opsc_staged) { Remove-Item -LiteralPath $opsc_staged -Force -ErrorAction SilentlyContinue }
  foreach ($opsc_f in $opsc_done.facts.PSObject.Properties) { Write-Fact $opsc_f.Name $opsc_f.Value }
  if ($null -ne $opsc_done.takenOver) { Write-TakenOver $opsc_done.takenOver }
  Write-Output "${ALREADY_DONE} $($opsc_done.attempt) at $($opsc_done.at); not run again (run marker $opsc_marker)"
  $opsc_lock.Close()
  exit ([int]$opsc_done.exitCode)
}
$opsc_at = [DateTime]::UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", [System.Globalization.CultureInfo]::InvariantCulture)
if ($null -ne $opsc_tookOver) {
  if ($opsc_staged) { Remove-Item -LiteralPath $opsc_staged -Force -ErrorAction SilentlyContinue }
  Save-OpscMarker ([ordered]@{ exitCode = ${TAKEN_OVER_EXIT}; at = $opsc_at; attempt = $opsc_attempt; facts = @{}; takenOver = $opsc_tookOver })
  Write-TakenOver $opsc_tookOver
  $opsc_lock.Close()
  exit ${TAKEN_OVER_EXIT}
}
$opsc_facts = [ordered]@{}
$opsc_file = Join-Path $opsc_runDir ('.' + $opsc_runTarget + '.' + $opsc_nonce + '.ps1')
[System.IO.File]::WriteAllText($opsc_file, $opsc_body + "\`r\`n" + '$global:opsc_fellThrough = $?', (New-Object System.Text.UTF8Encoding $true))
$global:opsc_fellThrough = $null
$global:LASTEXITCODE = 0
$opsc_failure = $null
$ErrorActionPreference = $opsc_bodyErrorAction
try { & $opsc_file } catch { $opsc_failure = $_ } finally { $ErrorActionPreference = 'Stop' }
if ($null -ne $opsc_failure) { $opsc_rc = 1 }
elseif ($null -eq $global:opsc_fellThrough) { $opsc_rc = [int]$LASTEXITCODE }
elseif ($global:opsc_fellThrough) { $opsc_rc = 0 }
else { $opsc_rc = 1 }
Remove-Item -LiteralPath $opsc_file -Force -ErrorAction SilentlyContinue
Save-OpscMarker ([ordered]@{
  exitCode = $opsc_rc
  at = [DateTime]::UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", [System.Globalization.CultureInfo]::InvariantCulture)
  attempt = $opsc_attempt
  facts = $opsc_facts
})
try {
  $opsc_cutoff = (Get-Date).AddDays(-${MARKER_RETENTION_DAYS})
  Get-ChildItem -LiteralPath $opsc_runs -Recurse -File -Force -ErrorAction SilentlyContinue | Where-Object { $_.LastWriteTime -lt $opsc_cutoff } | Remove-Item -Force -ErrorAction SilentlyContinue
  Get-ChildItem -LiteralPath $opsc_runs -Recurse -Directory -Force -ErrorAction SilentlyContinue | Sort-Object { $_.FullName.Length } -Descending |
    Where-Object { $_.LastWriteTime -lt $opsc_cutoff -and $null -eq (Get-ChildItem -LiteralPath $_.FullName -Force | Select-Object -First 1) } |
    Remove-Item -Force -ErrorAction SilentlyContinue
} catch { }
$opsc_lock.Close()
if ($null -ne $opsc_failure) { throw $opsc_failure }
exit $opsc_rc`;
