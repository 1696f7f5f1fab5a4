import { spawn } from 'node:child_process';
import { CappedBuffer } from './capped-buffer.js';

export interface RunProcessOptions {
  command: string;
  args: readonly string[];
  timeoutMs: number;
  captureCapBytes: number;
  /** Environment for the child; the executor's own (which may hold the vault key) is never passed on. */
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Grace between SIGTERM and SIGKILL of the process group. */
  killGraceMs?: number;
  /** Called for every chunk read, e.g. to report progress. */
  onData?: (stream: 'stdout' | 'stderr', chunk: Buffer) => void;
  /** Starts the program as this user and group (the executor must be root to switch); supplementary groups are dropped. */
  uid?: number;
  gid?: number;
  /**
   * Descriptors 3, 4, ... of the child: a function receives what the child writes there, a Buffer
   * is what the child reads there (then end of file).
   */
  extraFds?: readonly (Buffer | ((chunk: Buffer) => void))[];
}

export interface ProcessOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: CappedBuffer;
  stderr: CappedBuffer;
  durationMs: number;
  timedOut: boolean;
  aborted: boolean;
}

/** Thrown when the program cannot be started at all (not found, not executable). */
export class SpawnError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/**
 * Runs a program with an argv array (never a shell) in its own process group, so that a timeout
 * or a cancellation stops the program and everything it started.
 */
export const runProcess = (options: RunProcessOptions): Promise<ProcessOutcome> =>
  new Promise((resolve, reject) => {
    const started = performance.now();
    const stdout = new CappedBuffer(options.captureCapBytes);
    const stderr = new CappedBuffer(options.captureCapBytes);
    let timedOut = false;
    let aborted = false;
    let killTimer: NodeJS.Timeout | undefined;

    const extra = options.extraFds ?? [];
    const child = spawn(options.command, [...options.args], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', ...extra.map(() => 'pipe' as const)],
      env: options.env,
      ...(options.uid !== undefined && { uid: options.uid }),
      ...(options.gid !== undefined && { gid: options.gid }),
    });
    extra.forEach((fd, i) => {
      const stream = child.stdio[3 + i] as NodeJS.ReadWriteStream | null;
      if (!stream) return;
      // A child that exits without reading its input must not fail the run.
      stream.on('error', () => undefined);
      if (Buffer.isBuffer(fd)) stream.end(fd);
      else stream.on('data', fd);
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout.push(chunk);
      options.onData?.('stdout', chunk);
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr.push(chunk);
      options.onData?.('stderr', chunk);
    });

    const killGroup = (signal: NodeJS.Signals): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // The group is already gone.
      }
    };
    const stop = (): void => {
      killGroup('SIGTERM');
      killTimer ??= setTimeout(() => killGroup('SIGKILL'), options.killGraceMs ?? 2_000);
    };
    const timeout = setTimeout(() => {
      timedOut = true;
      stop();
    }, options.timeoutMs);
    const onAbort = (): void => {
      aborted = true;
      stop();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });

    const cleanUp = (): void => {
      clearTimeout(timeout);
      clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', onAbort);
    };
    child.once('error', (err: NodeJS.ErrnoException) => {
      cleanUp();
      reject(new SpawnError(`cannot start ${options.command}: ${err.code ?? err.message}`, err.code));
    });
    // 'close' (not 'exit') so that all output has been read.
    child.once('close', (exitCode, signal) => {
      cleanUp();
      // Children that outlived the leader (e.g. after a timeout) must not linger.
      if (timedOut || aborted) killGroup('SIGKILL');
      resolve({ exitCode, signal, stdout, stderr, durationMs: performance.now() - started, timedOut, aborted });
    });
    if (options.signal?.aborted) onAbort();
  });
