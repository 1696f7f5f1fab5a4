/**
 * Content that needs a person's eyes whoever wrote it: the planner may have been talked into it by
 * the request ("ignore previous instructions..."), or the request may mean it. A match never runs
 * silently: the plan is marked destructive and needs approval, with the reason shown.
 */
const PATTERNS: { pattern: RegExp; reason: string }[] = [
  {
    pattern: /\brm\s+(-[a-zA-Z]*[rR][a-zA-Z]*\s+)*-?[a-zA-Z]*\s*(\/|\/\*|~|\$HOME)(\s|$|;)/,
    reason: 'deletes a root or home folder recursively (rm -r /)',
  },
  {
    pattern: /\brm\s+-[a-zA-Z]*[rf][a-zA-Z]*\s+-[a-zA-Z]*\s*\/(\s|$)|\brm\s+-rf\s+\/(\s|\*|$)/,
    reason: 'deletes the root file system (rm -rf /)',
  },
  { pattern: /\b(mkfs(\.\w+)?|wipefs|fdisk|parted)\b/, reason: 'formats or repartitions a disk' },
  { pattern: /\bdd\b[^\n]*\bof=\/dev\//, reason: 'writes raw to a device (dd of=/dev/...)' },
  { pattern: />\s*\/dev\/(sd|nvme|hd|vd)/, reason: 'overwrites a disk device' },
  { pattern: /:\(\)\s*\{\s*:\s*\|\s*:\s*&\s*\}\s*;\s*:/, reason: 'a fork bomb' },
  {
    pattern: /\b(shutdown|reboot|poweroff|halt|init\s+[06])\b|\b(Stop|Restart)-Computer\b/i,
    reason: 'shuts down or reboots the machine',
  },
  {
    pattern: /\b(Format-Volume|Clear-Disk|Initialize-Disk|Remove-Partition)\b/i,
    reason: 'formats or wipes a Windows disk',
  },
  {
    pattern:
      /\bRemove-Item\b[^\n]*-Recurse[^\n]*['"]?[A-Za-z]:\\?['"]?(\s|$)|\bRemove-Item\b[^\n]*['"]?[A-Za-z]:\\['"]?\s[^\n]*-Recurse/i,
    reason: 'deletes a whole Windows drive recursively',
  },
  { pattern: /\bchmod\s+(-R\s+)?[0-7]*777\s+\/(\s|$)/, reason: 'makes the root file system writable by everyone' },
  {
    pattern:
      /\/etc\/shadow|\/etc\/sudoers|\bid_(rsa|ed25519|ecdsa)\b|\.ssh\/|authorized_keys|SAM\b.*\bSYSTEM\b|\bmimikatz\b|\bsekurlsa\b/i,
    reason: 'reads or changes credentials or keys',
  },
  {
    pattern: /\b(Get-Credential|ConvertFrom-SecureString|vault|OPSC_VAULT|api[_-]?token|password|passwd|secret)\b/i,
    reason: 'handles credentials or secrets',
  },
  {
    pattern:
      /\b(curl|wget|nc|ncat|netcat|scp|Invoke-WebRequest|Invoke-RestMethod|iwr|irm)\b[^\n]*(https?:\/\/|\d{1,3}(\.\d{1,3}){3})/i,
    reason: 'sends data to or fetches code from another host',
  },
  {
    pattern: /\bbase64\b[^\n]*\|\s*(sh|bash)\b|\|\s*(sh|bash)\s*$|\bIEX\b|Invoke-Expression/im,
    reason: 'runs code it downloads or decodes',
  },
  {
    pattern: /\b(userdel|useradd|passwd\s+\w|net\s+user\b|New-LocalUser|Add-LocalGroupMember)\b/i,
    reason: 'creates, deletes or changes user accounts',
  },
  {
    pattern: /\biptables\s+-F\b|\bufw\s+disable\b|Set-NetFirewallProfile[^\n]*-Enabled\s+False/i,
    reason: 'turns off the firewall',
  },
];

/** The reasons a text needs a second look; empty when none. */
export const dangerIn = (text: string): string[] => [
  ...new Set(PATTERNS.filter((p) => p.pattern.test(text)).map((p) => p.reason)),
];
