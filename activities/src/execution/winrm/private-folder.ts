/**
 * OpsConductor's folder on a Windows host (`C:\ProgramData\OpsConductor`, with runs, staging and
 * backups below it) decides what the executor does as an administrator: a lease there names a
 * process to stop, a marker says a change is done, a staged upload is what gets copied. ProgramData
 * lets every local user create files and folders (BUILTIN\Users CI WD,AD, and the creator owns
 * what it makes), so the folder is created private: inheritance off, full control for SYSTEM and
 * Administrators (and the connecting account when it is not an administrator) only, and everything
 * below inherits that. Because a local user may have made the folder first, every run checks it
 * again before using it.
 */

export const WINDOWS_OPSC_ROOT = 'C:\\ProgramData\\OpsConductor';

/**
 * Rights that let a principal change a folder's contents or its protection: WriteData/CreateFiles,
 * AppendData/CreateDirectories, WriteExtendedAttributes, DeleteSubdirectoriesAndFiles,
 * WriteAttributes, Delete, ChangePermissions, TakeOwnership, GENERIC_ALL and GENERIC_WRITE.
 */
const WRITE_RIGHTS = '0x500D0156';

/**
 * `Initialize-OpscFolder $root $sub` makes the root private if it does not exist, creates `$sub`
 * below it (inheriting that), and returns $null, or why either may not be used: an owner that is not
 * SYSTEM, Administrators or the executing account, or write rights for anyone else.
 * `Get-OpscForeignOwner $path` names the owner of a file when it is not one of those.
 */
export const PRIVATE_FOLDER = `$opsc_me = [System.Security.Principal.WindowsIdentity]::GetCurrent().User
$opsc_trusted = @('S-1-5-18', 'S-1-5-32-544', $opsc_me.Value)
function Get-OpscName([System.Security.Principal.SecurityIdentifier]$Sid) {
  try { $Sid.Translate([System.Security.Principal.NTAccount]).Value } catch { $Sid.Value }
}
function Get-OpscForeignOwner([string]$Path) {
  $owner = (Get-Acl -LiteralPath $Path).GetOwner([System.Security.Principal.SecurityIdentifier])
  if ($opsc_trusted -contains $owner.Value) { return $null }
  return Get-OpscName $owner
}
function Test-OpscPrivate([string]$Path) {
  $acl = Get-Acl -LiteralPath $Path
  $owner = $acl.GetOwner([System.Security.Principal.SecurityIdentifier])
  if ($opsc_trusted -notcontains $owner.Value) { return "$Path is owned by $(Get-OpscName $owner)" }
  foreach ($rule in $acl.GetAccessRules($true, $true, [System.Security.Principal.SecurityIdentifier])) {
    if ($rule.AccessControlType -eq 'Allow' -and $opsc_trusted -notcontains $rule.IdentityReference.Value -and ([long]$rule.FileSystemRights -band ${WRITE_RIGHTS}) -ne 0) {
      return "$(Get-OpscName $rule.IdentityReference) may write to $Path"
    }
  }
  return $null
}
function Initialize-OpscFolder([string]$Root, [string]$Sub) {
  # An administrator's folders belong to Administrators, so another administrator account (a moved credential) may use them too.
  $admins = New-Object System.Security.Principal.SecurityIdentifier 'S-1-5-32-544'
  $isAdmin = (New-Object System.Security.Principal.WindowsPrincipal([System.Security.Principal.WindowsIdentity]::GetCurrent())).IsInRole([System.Security.Principal.WindowsBuiltInRole]::Administrator)
  if (-not (Test-Path -LiteralPath $Root -PathType Container)) {
    $acl = New-Object System.Security.AccessControl.DirectorySecurity
    $acl.SetAccessRuleProtection($true, $false)
    $keepers = if ($isAdmin) { @('S-1-5-18', 'S-1-5-32-544') } else { $opsc_trusted }
    foreach ($sid in $keepers) { $acl.AddAccessRule((New-Object System.Security.AccessControl.FileSystemAccessRule((New-Object System.Security.Principal.SecurityIdentifier $sid), 'FullControl', 'ContainerInherit, ObjectInherit', 'None', 'Allow'))) }
    if ($isAdmin) { $acl.SetOwner($admins) }
    # On a folder made meanwhile by someone else this changes nothing: the check below decides.
    [void][System.IO.Directory]::CreateDirectory($Root, $acl)
  }
  $why = Test-OpscPrivate $Root
  if ($null -ne $why) { return $why }
  if (-not (Test-Path -LiteralPath $Sub -PathType Container)) {
    New-Item -ItemType Directory -Path $Sub -Force | Out-Null
    if ($isAdmin) { $acl = Get-Acl -LiteralPath $Sub; $acl.SetOwner($admins); Set-Acl -LiteralPath $Sub -AclObject $acl }
  }
  return Test-OpscPrivate $Sub
}`;

/** What a refusal says after the reason: the same words as a marker folder that cannot be written. */
export const NOT_PRIVATE_ADVICE =
  'only SYSTEM, Administrators and the executing account may own or write it (remove the folder, or make it so); a change that a retry could repeat is not made';
