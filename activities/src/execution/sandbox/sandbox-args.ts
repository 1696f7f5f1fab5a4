import path from 'node:path';

/** Writable and private in every sandbox: each command gets empty ones, gone when it ends. */
export const PRIVATE_DIRS: readonly string[] = ['/tmp', '/var/tmp', '/run'];

/**
 * Folders a tmpfs cannot cover without breaking every program: a key or data folder that is one of
 * these is hidden file by file instead.
 */
const SYSTEM_DIRS: ReadonlySet<string> = new Set([
  '/',
  '/usr',
  '/etc',
  '/bin',
  '/sbin',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/dev',
  '/proc',
  '/sys',
  '/var',
]);

export interface SandboxSpec {
  /** Absolute path of the program. */
  program: string;
  args: readonly string[];
  /** PATH inside the sandbox. */
  path: string;
  /** The host's network: only for a read-only diagnostic whose destinations passed the egress policy. */
  network: boolean;
  /** Folders the command must not see (data, artifacts, the vault key's folder): each becomes an empty tmpfs. */
  hiddenDirs: readonly string[];
  /** Files the command must not see (the vault key itself): each becomes /dev/null. Existing files only. */
  hiddenFiles: readonly string[];
  /** The descriptor bwrap reports on (JSON: the command's pid once it runs, then its exit code). */
  statusFd: number;
  /** A descriptor holding the /etc/hosts the command resolves from (its destinations pinned to checked addresses). */
  hostsFd?: number;
}

const within = (dir: string, p: string): boolean => p === dir || p.startsWith(dir.endsWith('/') ? dir : `${dir}/`);

/** The folders to cover, outermost first, without those a covered folder already holds. */
const coveredDirs = (dirs: readonly string[]): string[] => {
  const wanted = [...new Set(dirs.map((d) => path.resolve(d)))]
    .filter((d) => !SYSTEM_DIRS.has(d))
    .sort((a, b) => a.length - b.length);
  const out: string[] = [...PRIVATE_DIRS];
  for (const dir of wanted) if (!out.some((o) => within(o, dir))) out.push(dir);
  return out.slice(PRIVATE_DIRS.length);
};

/**
 * The bubblewrap command line for one local command: a read-only view of the host's root, its own
 * /proc (new PID namespace: no other process is visible), /dev, private /tmp, /var/tmp and /run
 * (sockets such as PostgreSQL's live there), the executor's data folders and key hidden, no
 * capabilities, a new session (no TIOCSTI into the executor's terminal), an environment of PATH and
 * locale only, and no network unless `network`. It dies with the executor.
 */
export const sandboxArgs = (spec: SandboxSpec): string[] => {
  const dirs = coveredDirs(spec.hiddenDirs);
  const covered = [...PRIVATE_DIRS, ...dirs];
  const files = [...new Set(spec.hiddenFiles.map((f) => path.resolve(f)))].filter(
    (f) => !covered.some((d) => within(d, f)),
  );
  return [
    '--die-with-parent',
    '--new-session',
    '--unshare-all',
    ...(spec.network ? ['--share-net'] : []),
    '--cap-drop',
    'ALL',
    '--ro-bind',
    '/',
    '/',
    '--dev',
    '/dev',
    '--proc',
    '/proc',
    ...covered.flatMap((d) => ['--tmpfs', d]),
    ...files.flatMap((f) => ['--ro-bind', '/dev/null', f]),
    ...(spec.hostsFd !== undefined ? ['--ro-bind-data', String(spec.hostsFd), '/etc/hosts'] : []),
    '--clearenv',
    '--setenv',
    'PATH',
    spec.path,
    '--setenv',
    'LANG',
    'C.UTF-8',
    '--setenv',
    'LC_ALL',
    'C.UTF-8',
    '--setenv',
    'HOME',
    '/tmp',
    '--chdir',
    '/tmp',
    '--json-status-fd',
    String(spec.statusFd),
    '--',
    spec.program,
    ...spec.args,
  ];
};
