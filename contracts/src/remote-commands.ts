/*
 * What a command run on a target (SSH `run`, WinRM `command`) may be without a person's approval:
 * the same argv-exact idea as the executor's local list (local-commands.ts). A program is read-only
 * only with exactly the arguments listed here: `hostname` prints the name, `hostname web-2` renames
 * the host; `date` prints the time, `date -s ...` sets it. Anything else, or any extra argument, is a
 * change. A program must be a bare name: `/tmp/x/uptime` is not `uptime`.
 */

/** Argument lists (after the program) that only look, per program, on Linux over SSH. */
const LINUX: Readonly<Record<string, readonly (readonly string[])[]>> = {
  uptime: [[], ['-p'], ['-s']],
  hostname: [[], ['-f'], ['-s'], ['-d'], ['-i'], ['-I']],
  whoami: [[]],
  id: [[], ['-u'], ['-g'], ['-G'], ['-un'], ['-gn'], ['-Gn']],
  date: [[], ['-u'], ['-R'], ['--utc'], ['--iso-8601'], ['--iso-8601=seconds'], ['--rfc-3339=seconds']],
  uname: [[], ['-a'], ['-r'], ['-s'], ['-n'], ['-m'], ['-v'], ['-o']],
  df: [[], ['-h'], ['-H'], ['-k'], ['-T'], ['-i'], ['-hT'], ['-Th'], ['-h', '/'], ['-i', '/']],
  free: [[], ['-m'], ['-h'], ['-g'], ['-k'], ['-b'], ['-mt'], ['-ht']],
  nproc: [[]],
  lscpu: [[]],
  lsblk: [[]],
  who: [[]],
  w: [[]],
  last: [['-n', '10']],
  arch: [[]],
  timedatectl: [[], ['status']],
  hostnamectl: [[], ['status']],
  lsb_release: [['-a'], ['-d']],
  cat: [['/etc/os-release'], ['/proc/loadavg'], ['/proc/meminfo'], ['/proc/cpuinfo'], ['/etc/hostname']],
};

/** The same on Windows over WinRM (PowerShell's call operator); names compare without case or `.exe`. */
const WINDOWS: Readonly<Record<string, readonly (readonly string[])[]>> = {
  hostname: [[]],
  whoami: [[], ['/user'], ['/groups'], ['/all']],
  ipconfig: [[], ['/all']],
  systeminfo: [[]],
  ver: [[]],
  'get-date': [[]],
  'get-computerinfo': [[]],
  'get-uptime': [[]],
};

const sameArgs = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Whether a command on a target only looks: its program and arguments are exactly one of the listed
 * shapes. `ssh` takes the argv as run (program first); `winrm` the program and its arguments.
 */
export const remoteCommandReadOnly = (method: 'ssh' | 'winrm', program: string, args: readonly string[]): boolean => {
  const list = method === 'ssh' ? LINUX : WINDOWS;
  const name = method === 'ssh' ? program : program.toLowerCase().replace(/\.exe$/, '');
  if (!Object.hasOwn(list, name)) return false;
  return list[name]!.some((shape) => sameArgs(shape, args));
};

/**
 * Programs on Linux that write nothing whatever their arguments: they read what they are given and
 * print. Not a verdict for approval (`sha256sum /etc/shadow` reads a secret, and stays a change
 * there): only that a run of one changes nothing on the target, so a retry may simply run it again.
 */
const LINUX_WRITES_NOTHING: ReadonlySet<string> = new Set([
  'sha256sum',
  'sha512sum',
  'sha1sum',
  'md5sum',
  'b2sum',
  'cksum',
  'stat',
  'wc',
  'test',
]);

/** Whether a command on a Linux target changes nothing there: a read-only shape, or a program that never writes. */
export const remoteCommandWritesNothing = (argv: readonly string[]): boolean => {
  const [program = '', ...args] = argv;
  return remoteCommandReadOnly('ssh', program, args) || LINUX_WRITES_NOTHING.has(program);
};

/** The read-only command lines, for documentation and the planner: `uptime`, `df -h`, `whoami /all`. */
export const READ_ONLY_REMOTE_COMMANDS: Readonly<Record<'linux' | 'windows', readonly string[]>> = {
  linux: Object.entries(LINUX).flatMap(([p, shapes]) => shapes.map((s) => [p, ...s].join(' '))),
  windows: Object.entries(WINDOWS).flatMap(([p, shapes]) => shapes.map((s) => [p, ...s].join(' '))),
};
