import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { runProcess, SpawnError, type ProcessOutcome } from '../run-process.js';
import { sandboxArgs } from './sandbox-args.js';

export interface SandboxUser {
  name: string;
  uid: number;
  gid: number;
}

export interface SandboxSettings {
  /** bubblewrap's path; null when it is not installed. */
  bwrap: string | null;
  /** The dedicated user commands run as (the executor is root); null: the executor's own user (it is not root). */
  user: SandboxUser | null;
  /** Why the sandbox cannot be used at all (e.g. a root executor without its sandbox user). */
  unusable?: string;
  /** PATH inside the sandbox, and where programs are looked up. */
  path: string;
  /** Folders and files no command may see; each run covers those that exist then. */
  hidden: readonly string[];
}

export interface SandboxStatus {
  ok: boolean;
  /** Who commands run as. */
  user: string;
  error?: string;
  checkedAt: string;
}

/** The sandbox cannot start commands (bubblewrap missing, namespaces refused): nothing runs. */
export class SandboxUnavailable extends Error {}

export interface SandboxRun {
  /** An absolute path (see `resolve`). */
  program: string;
  args: readonly string[];
  network: boolean;
  /** The /etc/hosts the command sees, when its destinations are pinned. */
  hosts?: string;
  timeoutMs: number;
  captureCapBytes: number;
  signal?: AbortSignal;
  onData?: (stream: 'stdout' | 'stderr', chunk: Buffer) => void;
}

export interface Sandbox {
  status(): SandboxStatus;
  /** Runs `true` in a sandbox and records whether that worked. */
  probe(): Promise<SandboxStatus>;
  /** A program's absolute path on the sandbox PATH; SpawnError when there is none. */
  resolve(program: string): string;
  run(run: SandboxRun): Promise<ProcessOutcome>;
}

const STATUS_FD = 3;
const HOSTS_FD = 4;
/** A failed probe is tried again at the next command once it is this old: namespaces may have been allowed since. */
const REPROBE_AFTER_MS = 30_000;

const isExecutableFile = (file: string): boolean => {
  try {
    const st = statSync(file);
    return st.isFile() && (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
};

/** Looks a program up on a PATH, as execvp would. */
export const findProgram = (program: string, searchPath: string): string | null => {
  if (program.includes('/')) return path.isAbsolute(program) && isExecutableFile(program) ? program : null;
  for (const dir of searchPath.split(':').filter(Boolean)) {
    const candidate = path.join(dir, program);
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
};

/** A user from the system's user database (`getent passwd`), or null when there is none. */
export const findSandboxUser = (name: string): SandboxUser | null => {
  try {
    const line = execFileSync('getent', ['passwd', name], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } }).trim();
    const [, , uid, gid] = line.split(':');
    return uid && gid ? { name, uid: Number(uid), gid: Number(gid) } : null;
  } catch {
    return null;
  }
};

/** The hidden paths that exist now, as folders (covered by tmpfs) and files (covered by /dev/null). */
const presentHidden = (paths: readonly string[]): { hiddenDirs: string[]; hiddenFiles: string[] } => {
  const hiddenDirs: string[] = [];
  const hiddenFiles: string[] = [];
  for (const p of paths) {
    try {
      (statSync(p).isDirectory() ? hiddenDirs : hiddenFiles).push(p);
    } catch {
      // Not there: nothing to hide.
    }
  }
  return { hiddenDirs, hiddenFiles };
};

/** bubblewrap's first complaint, for an error that says why the sandbox failed. */
const bwrapComplaint = (stderr: string): string =>
  stderr
    .split('\n')
    .find((l) => l.startsWith('bwrap:'))
    ?.slice(0, 300) ??
  (stderr.trim().slice(0, 300) || 'bubblewrap did not start the command');

export const createSandbox = (settings: SandboxSettings): Sandbox => {
  const user = settings.user
    ? `${settings.user.name} (${settings.user.uid})`
    : `the executor's own user (${process.getuid?.() ?? '?'})`;
  let status: SandboxStatus = {
    ok: false,
    user,
    error:
      settings.unusable ??
      (settings.bwrap
        ? 'not checked yet'
        : 'bubblewrap (bwrap) is not installed on the executor host: apt-get install bubblewrap'),
    checkedAt: new Date(0).toISOString(),
  };

  const spawnSandboxed = async (run: SandboxRun): Promise<{ outcome: ProcessOutcome; started: boolean }> => {
    let report = '';
    const outcome = await runProcess({
      command: settings.bwrap!,
      args: sandboxArgs({
        program: run.program,
        args: run.args,
        path: settings.path,
        network: run.network,
        ...presentHidden(settings.hidden),
        statusFd: STATUS_FD,
        ...(run.hosts !== undefined && { hostsFd: HOSTS_FD }),
      }),
      timeoutMs: run.timeoutMs,
      captureCapBytes: run.captureCapBytes,
      // bubblewrap itself stays PID 1 of the sandbox, and its environment is readable there
      // (/proc/1/environ): it gets nothing the command may not see.
      env: { PATH: settings.path, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' },
      ...(run.signal && { signal: run.signal }),
      ...(run.onData && { onData: run.onData }),
      ...(settings.user && { uid: settings.user.uid, gid: settings.user.gid }),
      extraFds: [
        (chunk) => (report += chunk.toString('utf8')),
        ...(run.hosts !== undefined ? [Buffer.from(run.hosts, 'utf8')] : []),
      ],
    });
    return { outcome, started: report.includes('"child-pid"') };
  };

  const probe = async (): Promise<SandboxStatus> => {
    const checkedAt = new Date().toISOString();
    if (settings.unusable || !settings.bwrap) return (status = { ...status, checkedAt });
    try {
      const { outcome, started } = await spawnSandboxed({
        program: findProgram('true', settings.path) ?? '/bin/true',
        args: [],
        network: false,
        timeoutMs: 10_000,
        captureCapBytes: 4_096,
      });
      status =
        started && outcome.exitCode === 0
          ? { ok: true, user, checkedAt }
          : { ok: false, user, error: bwrapComplaint(outcome.stderr.text()), checkedAt };
    } catch (err) {
      status = { ok: false, user, error: (err as Error).message, checkedAt };
    }
    return status;
  };

  return {
    status: () => status,
    probe,
    resolve(program) {
      const found = findProgram(program, settings.path);
      if (!found) throw new SpawnError(`cannot start ${program}: ENOENT`, 'ENOENT');
      return found;
    },
    async run(run) {
      if (!status.ok && Date.now() - Date.parse(status.checkedAt) > REPROBE_AFTER_MS) await probe();
      if (!status.ok)
        throw new SandboxUnavailable(`the executor's sandbox cannot run commands: ${status.error ?? 'unknown'}`);
      let spawned: Awaited<ReturnType<typeof spawnSandboxed>>;
      try {
        spawned = await spawnSandboxed(run);
      } catch (err) {
        if (!(err instanceof SpawnError)) throw err;
        status = { ok: false, user, error: err.message, checkedAt: new Date().toISOString() };
        throw new SandboxUnavailable(`the executor's sandbox cannot run commands: ${err.message}`);
      }
      const { outcome, started } = spawned;
      if (!started && !outcome.timedOut && !outcome.aborted) {
        status = { ok: false, user, error: bwrapComplaint(outcome.stderr.text()), checkedAt: new Date().toISOString() };
        throw new SandboxUnavailable(`the executor's sandbox cannot run commands: ${status.error}`);
      }
      return outcome;
    },
  };
};
