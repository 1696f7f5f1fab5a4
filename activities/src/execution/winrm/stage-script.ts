import { NOT_PRIVATE_ADVICE, PRIVATE_FOLDER, WINDOWS_OPSC_ROOT } from './private-folder.js';
import { FACT, prologue, type WindowsScript } from './windows-scripts.js';

/**
 * A file-copy's upload, the one command that reads the artifact from stdin. It runs before the
 * copy and outside the run marker, so an upload whose client dies holds no lock: the retry stages
 * its own copy, and the copy under the marker reads a file on the host, never the client's stdin.
 */

/** Machine-wide like the runs and backups beside it, but readable by SYSTEM, Administrators and the uploading account only. */
export const WINDOWS_STAGING_DIR = 'C:\\ProgramData\\OpsConductor\\staging';

/** Staged files older than this are orphans (an upload or a copy whose executor died) and are removed by the next upload. */
export const STAGING_RETENTION_HOURS = 24;

/** Bytes of the artifact per stdin line: a multiple of 3, so each line is whole base64 without padding. */
export const COPY_CHUNK_BYTES = 49_152;

/** Where one attempt's upload lands: its nonce names it, so attempts never share a file. */
export const stagedPathFor = (nonce: string): string => `${WINDOWS_STAGING_DIR}\\${nonce}.upload`;

/**
 * Stages only in a private folder (private-folder.ts: whoever made `staging` first could read
 * every upload, or swap one), refusing with exit 70 one that another account owns or may write;
 * removes orphans, then writes stdin's base64 lines to `<name>.part` held exclusively (so a pruning
 * upload cannot remove a live one), stopping at more bytes than expected. On the expected size and
 * SHA-256 the part becomes the staged file. Exit 3 when the data is not what was sent, 5 access denied, 70 the folder is not private.
 */
const stageBody = `try {
  $why = Initialize-OpscFolder $opsc_root $opsc_stagingDir
  if ($null -ne $why) { Stop-WithError 70 "opsconductor: will not stage an upload in a folder others control: $why; $opsc_advice" }
  $cutoff = (Get-Date).AddHours(-$opsc_retentionHours)
  Get-ChildItem -LiteralPath $opsc_stagingDir -File -Force -ErrorAction SilentlyContinue | Where-Object { $_.LastWriteTime -lt $cutoff } | Remove-Item -Force -ErrorAction SilentlyContinue
  $part = $opsc_staged + '.part'
  $sha = [System.Security.Cryptography.SHA256]::Create()
  $out = [System.IO.File]::Open($part, [System.IO.FileMode]::CreateNew, [System.IO.FileAccess]::Write, [System.IO.FileShare]::None)
  $bytes = 0
  $tooMuch = $false
  try {
    while ($null -ne ($line = [Console]::In.ReadLine())) {
      if ($line.Length -eq 0) { continue }
      $chunk = [Convert]::FromBase64String($line)
      $bytes += $chunk.Length
      if ($bytes -gt $opsc_bytes) { $tooMuch = $true; break }
      [void]$sha.TransformBlock($chunk, 0, $chunk.Length, $null, 0)
      $out.Write($chunk, 0, $chunk.Length)
    }
    [void]$sha.TransformFinalBlock([byte[]]::new(0), 0, 0)
  } finally { $out.Close() }
  if ($tooMuch) {
    Remove-Item -LiteralPath $part -Force
    Stop-WithError 3 "more than the $opsc_bytes bytes announced arrived; nothing was staged"
  }
  $hash = ([BitConverter]::ToString($sha.Hash) -replace '-', '').ToLower()
  if ($hash -ne $opsc_sha256) {
    Remove-Item -LiteralPath $part -Force
    Write-Fact 'sha256' $hash
    Write-Fact 'bytes' $bytes
    Stop-WithError 3 "SHA-256 of the received file is $hash, expected $opsc_sha256"
  }
  Move-Item -LiteralPath $part -Destination $opsc_staged -Force
  Write-Fact 'staged' $bytes
  exit 0
} catch [System.UnauthorizedAccessException] {
  Stop-WithError 5 $_.Exception.Message
} catch {
  if ($part -and (Test-Path -LiteralPath $part)) { Remove-Item -LiteralPath $part -Force -ErrorAction SilentlyContinue }
  Stop-WithError 1 $_.Exception.Message
}`;

/** The upload's script; stdin then carries the artifact as base64 lines (copy-stdin.ts). */
export const stageScriptFor = (ctx: { nonce: string }, artifact: { sha256: string; bytes: number }): WindowsScript => {
  if (!/^[0-9a-f]{64}$/.test(artifact.sha256)) throw new RangeError('staging needs the artifact SHA-256');
  if (!Number.isSafeInteger(artifact.bytes) || artifact.bytes < 0)
    throw new RangeError('staging needs the artifact size');
  const values = {
    root: WINDOWS_OPSC_ROOT,
    stagingDir: WINDOWS_STAGING_DIR,
    advice: NOT_PRIVATE_ADVICE,
    staged: stagedPathFor(ctx.nonce),
    sha256: artifact.sha256,
    bytes: artifact.bytes,
    retentionHours: STAGING_RETENTION_HOURS,
  };
  return {
    script: `${prologue('file-stage', ctx.nonce, values)}\n${FACT}\n${PRIVATE_FOLDER}\n${stageBody}\n`,
    reportsFacts: true,
  };
};
