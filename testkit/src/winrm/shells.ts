import { randomUUID } from 'node:crypto';
import { runCommandLine } from './launch.js';
import { splitCommandLine } from './programs.js';
import { TERMINATED_EXIT_CODE } from './ps-context.js';
import { Killed, ProcessIo, StdinBuffer, type StreamName } from './sim-process.js';
import type { WinHost } from './win-host.js';

/**
 * WinRS shells and the commands running in them: each command is a simulated process whose output
 * waits in a queue until a Receive takes it, in order, across stdout and stderr.
 */

export interface OutputPiece {
  stream: StreamName;
  data: Buffer;
}

/** How much of the queue one Receive may take. */
export interface TakeLimits {
  /** Most raw bytes in one `rsp:Stream`. */
  streamBytes: number;
  /** Most raw bytes in one response. */
  totalBytes: number;
  /** Characters of envelope left for streams, and what each `rsp:Stream` element costs besides its base64. */
  room: number;
  overhead: number;
}

export interface CommandView {
  shellId: string;
  commandId: string;
  /** Bytes the client has Sent to the command's stdin, and whether it Sent End. */
  stdinBytes: number;
  stdinEnded: boolean;
  done: boolean;
}

export class ShellCommand {
  readonly stdin = new StdinBuffer();
  private readonly queue: OutputPiece[] = [];
  private readonly abort = new AbortController();
  private readonly waiters = new Set<() => void>();
  exitCode: number | null = null;
  /** Takes the process off the host's list: it is gone once it has exited or been terminated. */
  private readonly ended: () => void;
  /** Terminates what the process started (WinRS's job object). */
  private readonly endJob: () => void;

  constructor(
    readonly id: string,
    commandLine: string,
    host: WinHost,
    utf8: boolean,
  ) {
    const io = new ProcessIo((stream, data) => this.push(stream, data), this.stdin, this.abort.signal, { utf8 });
    // Listed by the program it runs (cmd.exe /c hands it on), so Get-Process and Stop-Process find it.
    // Stop-Process ends this process alone; Signal or the shell going away ends the job WinRS runs it in, so what it started too.
    const process = host.startCommandProcess(splitCommandLine(commandLine)[0] ?? 'cmd.exe', () =>
      this.stop(TERMINATED_EXIT_CODE),
    );
    io.pid = process.pid;
    io.started = process.started ?? new Date();
    this.ended = () => host.endCommandProcess(process.pid);
    this.endJob = () => {
      for (const child of host.descendants(process.pid)) host.killProcess(child.pid);
    };
    runCommandLine(commandLine, io, host).then(
      (code) => this.finish(code),
      (err: unknown) => {
        if (!(err instanceof Killed))
          this.push(
            'stderr',
            Buffer.from(`[winrm fleet] the simulated command failed: ${(err as Error).stack ?? String(err)}\r\n`),
          );
        this.finish(err instanceof Killed ? TERMINATED_EXIT_CODE : 1);
      },
    );
  }

  private notify(): void {
    for (const wake of [...this.waiters]) wake();
  }

  private push(stream: StreamName, data: Buffer): void {
    if (this.exitCode !== null || data.length === 0) return;
    this.queue.push({ stream, data });
    this.notify();
  }

  private finish(code: number): void {
    if (this.exitCode !== null) return;
    this.exitCode = code;
    this.ended();
    this.notify();
  }

  get done(): boolean {
    return this.exitCode !== null;
  }

  get pending(): number {
    return this.queue.reduce((n, p) => n + p.data.length, 0);
  }

  /** Resolves true once `ready()` holds, false when `ms` pass or `signal` aborts first. */
  waitFor(ready: () => boolean, ms: number, signal?: AbortSignal): Promise<boolean> {
    if (ready()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const end = (value: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        signal?.removeEventListener('abort', onAbort);
        resolve(value);
      };
      const check = () => ready() && end(true);
      const onAbort = () => end(false);
      const timer = setTimeout(() => end(ready()), ms);
      this.waiters.add(check);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Takes output in order; consecutive pieces of one stream are joined up to `streamBytes`. */
  take(limits: TakeLimits): OutputPiece[] {
    const out: OutputPiece[] = [];
    let room = limits.room;
    let total = 0;
    while (this.queue.length > 0 && total < limits.totalBytes) {
      const stream = (this.queue[0] as OutputPiece).stream;
      const fit = Math.floor((room - limits.overhead) / 4) * 3;
      let want = Math.min(limits.streamBytes, limits.totalBytes - total, fit);
      if (want <= 0) break;
      const parts: Buffer[] = [];
      while (want > 0 && this.queue[0]?.stream === stream) {
        const head = this.queue[0];
        const part = head.data.subarray(0, want);
        parts.push(part);
        want -= part.length;
        if (part.length === head.data.length) this.queue.shift();
        else head.data = head.data.subarray(part.length);
      }
      const data = Buffer.concat(parts);
      out.push({ stream, data });
      total += data.length;
      room -= limits.overhead + 4 * Math.ceil(data.length / 3);
    }
    return out;
  }

  /** Signal terminate / ctrl_c, or the shell going away: the process ends with STATUS_CONTROL_C_EXIT. */
  terminate(): void {
    this.endJob();
    this.stop(TERMINATED_EXIT_CODE);
  }

  private stop(code: number): void {
    this.abort.abort();
    this.finish(code);
  }
}

export class Shell {
  readonly id = randomUUID().toUpperCase();
  readonly commands = new Map<string, ShellCommand>();
  readonly created = new Date();
  /** The last request that named this shell: a shell whose client is gone lives on until it is idle too long. */
  lastUsed = Date.now();

  constructor(
    private readonly host: WinHost,
    /** Output in UTF-8 (WINRS_CODEPAGE 65001); otherwise the OEM code page. */
    readonly utf8: boolean,
    readonly owner: string,
  ) {}

  run(commandLine: string, commandId?: string): ShellCommand {
    const command = new ShellCommand(commandId ?? randomUUID().toUpperCase(), commandLine, this.host, this.utf8);
    this.commands.set(command.id.toUpperCase(), command);
    return command;
  }

  command(id: string): ShellCommand | undefined {
    return this.commands.get(id.toUpperCase());
  }

  close(): void {
    for (const command of this.commands.values()) command.terminate();
    this.commands.clear();
  }
}

export class ShellTable {
  private readonly shells = new Map<string, Shell>();
  created = 0;

  constructor(
    private readonly host: WinHost,
    /** WinRS IdleTimeout: a shell no request has named for this long is deleted, its commands terminated. */
    private readonly idleTimeoutMs = 7_200_000,
  ) {}

  /** Settled lazily, on each look at the table: the host owns no timers. */
  private reap(): void {
    const cutoff = Date.now() - this.idleTimeoutMs;
    for (const [id, shell] of this.shells) {
      if (shell.lastUsed >= cutoff) continue;
      shell.close();
      this.shells.delete(id);
    }
  }

  get open(): number {
    this.reap();
    return this.shells.size;
  }

  create(utf8: boolean, owner: string): Shell {
    this.reap();
    const shell = new Shell(this.host, utf8, owner);
    this.shells.set(shell.id, shell);
    this.created++;
    return shell;
  }

  get(id: string): Shell | undefined {
    this.reap();
    const shell = this.shells.get(id.toUpperCase());
    if (shell) shell.lastUsed = Date.now();
    return shell;
  }

  delete(id: string): boolean {
    const shell = this.get(id);
    shell?.close();
    return this.shells.delete(id.toUpperCase());
  }

  /** Every command of every open shell, as a test watches them (stdin Sent so far, running or done). */
  commands(): CommandView[] {
    this.reap();
    return [...this.shells.values()].flatMap((shell) =>
      [...shell.commands.values()].map((c) => ({
        shellId: shell.id,
        commandId: c.id,
        stdinBytes: c.stdin.received,
        stdinEnded: c.stdin.closed,
        done: c.done,
      })),
    );
  }

  closeAll(): void {
    for (const shell of this.shells.values()) shell.close();
    this.shells.clear();
  }
}
