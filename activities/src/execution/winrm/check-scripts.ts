/*
 * Check mode on Windows: bodies that only read (a service's status, a file's hash) and report, as
 * facts, whether the change of the same name would change the target (`would_change` yes or no)
 * and what that was judged on. None of them starts, stops, writes or copies anything.
 */

export const serviceCheckBody = `$svc = Get-Service -Name $opsc_name -ErrorAction SilentlyContinue
if ($null -eq $svc) { Stop-WithError 1 "Cannot find any service with service name '$opsc_name'." }
$state = $svc.Status.ToString()
Write-Fact 'state' $state
if ($opsc_action -eq 'start') { Write-Fact 'wanted' 'Running'; $would = $state -ne 'Running' }
elseif ($opsc_action -eq 'stop') { Write-Fact 'wanted' 'Stopped'; $would = $state -ne 'Stopped' }
else { Write-Fact 'wanted' 'Running (restarted)'; $would = $true }
if ($would) { Write-Fact 'would_change' 'yes' } else { Write-Fact 'would_change' 'no' }
Write-Output "Service $opsc_name is $state; $opsc_action would change it: $would"
exit 0`;

/** `$opsc_sha256` is the artifact's hash, computed by the executor; nothing is uploaded. */
export const fileCheckBody = `try {
  Write-Fact 'artifact_sha256' $opsc_sha256
  if (Test-Path -LiteralPath $opsc_destination -PathType Leaf) {
    $now = (Get-FileHash -LiteralPath $opsc_destination -Algorithm SHA256).Hash.ToLower()
    Write-Fact 'target_sha256' $now
    if ($opsc_backup) { Write-Fact 'backup' 'would be created' } else { Write-Fact 'backup' 'none' }
    if ($now -eq $opsc_sha256) { Write-Fact 'would_change' 'no'; Write-Output "$opsc_destination has the artifact's content" }
    else { Write-Fact 'would_change' 'yes'; Write-Output "$opsc_destination differs from the artifact ($now)" }
  } else {
    Write-Fact 'target_sha256' ''
    Write-Fact 'backup' 'none (no file to replace)'
    Write-Fact 'would_change' 'yes'
    Write-Output "$opsc_destination does not exist"
  }
  exit 0
} catch [System.UnauthorizedAccessException] {
  Stop-WithError 5 $_.Exception.Message
}`;

export const fileRestoreCheckBody = `try {
  $exists = Test-Path -LiteralPath $opsc_destination -PathType Leaf
  if ($null -eq $opsc_backupFile) {
    if ($exists) { Write-Fact 'would_change' 'yes'; Write-Output "$opsc_destination would be removed (there was no file before)" }
    else { Write-Fact 'would_change' 'no'; Write-Output "$opsc_destination does not exist" }
    exit 0
  }
  if (-not (Test-Path -LiteralPath $opsc_backupFile -PathType Leaf)) { Stop-WithError 1 "the backup $opsc_backupFile does not exist: the restore would fail" }
  $b = (Get-FileHash -LiteralPath $opsc_backupFile -Algorithm SHA256).Hash.ToLower()
  Write-Fact 'backup_sha256' $b
  $now = ''
  if ($exists) { $now = (Get-FileHash -LiteralPath $opsc_destination -Algorithm SHA256).Hash.ToLower() }
  Write-Fact 'target_sha256' $now
  if ($now -eq $b) { Write-Fact 'would_change' 'no' } else { Write-Fact 'would_change' 'yes' }
  exit 0
} catch [System.UnauthorizedAccessException] {
  Stop-WithError 5 $_.Exception.Message
}`;
