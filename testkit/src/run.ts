import { spawn } from 'node:child_process';
import { constants } from 'node:os';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to stdin, which is then closed (so a prompt reads EOF). */
  input?: string;
  env?: NodeJS.ProcessEnv;
}

/** Runs a program with an argv array (never a shell) and collects its output; a signal becomes 128+n. */
export const run = (command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> =>
  new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    // A program that exits without reading its input must not fail the call with EPIPE.
    child.stdin.on('error', () => undefined);
    child.once('error', (err) => reject(new Error(`cannot run ${command}: ${err.message}`)));
    child.once('close', (code, signal) =>
      resolve({
        code: code ?? 128 + (signal ? constants.signals[signal] : 0),
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      }),
    );
    child.stdin.end(options.input ?? '');
  });

/**
 * Like `run`, but a non-zero exit is an error described by `what` and the program's output. The
 * arguments stay out of the message: some carry a passphrase.
 */
export const runOk = async (
  what: string,
  command: string,
  args: readonly string[],
  options?: RunOptions,
): Promise<RunResult> => {
  const result = await run(command, args, options);
  if (result.code !== 0) {
    throw new Error(`${what}: ${command} exited with ${result.code}: ${(result.stderr || result.stdout).trim()}`);
  }
  return result;
};

/**
 * Maps with at most `limit` calls in flight. After a failure no new item starts, and the call
 * rejects only once the running ones have settled, so a caller's clean-up sees everything started.
 */
export const mapLimit = async <T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> => {
  const results: R[] = [];
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (!failure && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index] as T, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
  return results;
};

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
