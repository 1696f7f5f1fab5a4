import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ServiceProcess {
  name: string;
  pid: number;
  child: ChildProcess;
  /** Resolves with the exit code (or signal) once the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
  /** Sends a signal by PID (e.g. SIGKILL to simulate a crash). */
  kill(signal: NodeJS.Signals): void;
  /** Its last output lines (at most {@link TAIL_LINES}), oldest first: what a start that failed said. */
  tail(): string[];
}

/** How many of a service's last output lines it keeps for an error message. */
export const TAIL_LINES = 12;

export interface StartServiceOptions {
  name: string;
  /** A compiled Node entry point. */
  script: string;
  /** Arguments after the script. */
  args?: string[];
  /** Working directory; default: this process's. */
  cwd?: string;
  env: NodeJS.ProcessEnv;
  /** Each output line (stdout and stderr); default: discarded. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /**
   * What the child gets if this process exits with it still running (default SIGKILL). SIGTERM
   * lets a child that owns processes of its own (a test fleet's sshd hosts) stop them first.
   */
  exitSignal?: NodeJS.Signals;
}

/** Starts a Node service as a child process whose every line is handed to `onLine`. */
export const startService = (options: StartServiceOptions): ServiceProcess => {
  // Its own process group: a terminal's Ctrl-C reaches only the supervisor, which stops services in
  // order. The exit guard keeps a service from outliving a supervisor that dies.
  const child = spawn(process.execPath, [options.script, ...(options.args ?? [])], {
    env: options.env,
    ...(options.cwd && { cwd: options.cwd }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  if (child.pid === undefined) throw new Error(`${options.name} did not start`);
  const pid = child.pid;
  const guard = () => {
    try {
      process.kill(pid, options.exitSignal ?? 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  process.once('exit', guard);
  const last: string[] = [];
  for (const stream of ['stdout', 'stderr'] as const) {
    createInterface({ input: child[stream] }).on('line', (line) => {
      last.push(line.length > 400 ? `${line.slice(0, 400)}…` : line);
      if (last.length > TAIL_LINES) last.shift();
      options.onLine?.(line, stream);
    });
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      process.removeListener('exit', guard);
      resolve({ code, signal });
    });
  });
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    name: options.name,
    pid,
    child,
    exited,
    kill: (signal) => {
      if (alive()) child.kill(signal);
    },
    tail: () => [...last],
    stop: async (graceMs = 15_000) => {
      if (!alive()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
};

/** Polls a URL until it answers 200, or fails after `timeoutMs` (or as soon as `service` exits). */
export const waitForHttpOk = async (url: string, timeoutMs: number, service?: ServiceProcess): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  let ended: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void service?.exited.then((how) => {
    ended = how;
  });
  while (Date.now() < deadline) {
    if (ended && service) {
      // The exit and its last words: on CI the service's log file is not kept, this message is.
      const status = ended.signal ? `signal ${ended.signal}` : `code ${ended.code}`;
      // Its pipes may still hold the last lines when the exit is seen: wait (briefly) for them to close.
      if (service.child.stdout?.readableEnded === false || service.child.stderr?.readableEnded === false) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 1_000);
          service.child.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      const said = service
        .tail()
        .map((line) => `\n  | ${line}`)
        .join('');
      throw new Error(
        `${service.name} exited before ${url} was healthy (${status}); its last lines:${said || ' none'}`,
      );
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
      last = `HTTP ${res.status}: ${await res.text()}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} not healthy after ${timeoutMs} ms (${last})`);
};
