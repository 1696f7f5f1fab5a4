import { randomUUID } from 'node:crypto';
import { ShellCommand } from './shells.js';
import type { WinHost } from './win-host.js';

export interface HostExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command line on a simulated host directly, as WinRS would start it but without WinRM in
 * between: for set-up and assertions, like an administrator's console on the machine.
 */
export const execOnHost = async (
  host: WinHost,
  commandLine: string,
  options: { stdin?: string | Buffer; utf8?: boolean; timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<HostExecResult> => {
  const command = new ShellCommand(randomUUID().toUpperCase(), commandLine, host, options.utf8 ?? true);
  command.stdin.push(Buffer.from(options.stdin ?? ''), true);
  // The fleet stopping ends the command like a Signal terminate: nothing outlives stop().
  const onAbort = () => command.terminate();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) command.terminate();
  const finished = await command.waitFor(() => command.done, options.timeoutMs ?? 60_000);
  options.signal?.removeEventListener('abort', onAbort);
  if (!finished) {
    command.terminate();
    throw new Error(`${commandLine.slice(0, 80)} did not finish within ${options.timeoutMs ?? 60_000} ms`);
  }
  const out = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  for (const piece of command.take({ streamBytes: Infinity, totalBytes: Infinity, room: Infinity, overhead: 0 }))
    out[piece.stream].push(piece.data);
  return {
    code: command.exitCode ?? 1,
    stdout: Buffer.concat(out.stdout).toString('utf8'),
    stderr: Buffer.concat(out.stderr).toString('utf8'),
  };
};
