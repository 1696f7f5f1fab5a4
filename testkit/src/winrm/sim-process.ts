import { setTimeout as delay } from 'node:timers/promises';

/**
 * What a simulated program sees of its process: stdin as it arrives over Send, stdout and stderr
 * that Receive drains as they are written, the console's output encoding, and termination (Signal,
 * shell Delete, the fleet stopping) as an AbortSignal every wait honours.
 */

export type StreamName = 'stdout' | 'stderr';

/** Thrown inside a program when its process is terminated. */
export class Killed extends Error {
  constructor() {
    super('terminated');
  }
}

/** stdin as the client Sends it: bytes in order, then End. */
export class StdinBuffer {
  private chunks: Buffer[] = [];
  private ended = false;
  private wake: (() => void) | undefined;
  /** Bytes Sent so far, for tests that act while a client is still sending. */
  received = 0;

  get closed(): boolean {
    return this.ended;
  }

  push(data: Buffer, end: boolean): void {
    if (this.ended) return;
    this.received += data.length;
    if (data.length > 0) this.chunks.push(data);
    if (end) this.ended = true;
    this.wake?.();
  }

  private async more(signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw new Killed();
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(new Killed());
      signal.addEventListener('abort', onAbort, { once: true });
      this.wake = () => {
        signal.removeEventListener('abort', onAbort);
        this.wake = undefined;
        resolve();
      };
    });
  }

  /** One line without its CR/LF, or null at the end of input (`[Console]::In.ReadLine()`). */
  async readLine(signal: AbortSignal): Promise<string | null> {
    for (;;) {
      // Only the chunks up to the first newline are joined: a large upload stays linear.
      const at = this.chunks.findIndex((c) => c.includes(0x0a));
      if (at !== -1) {
        const chunk = this.chunks[at] as Buffer;
        const nl = chunk.indexOf(0x0a);
        const line = Buffer.concat([...this.chunks.slice(0, at), chunk.subarray(0, nl)]);
        this.chunks.splice(0, at + 1, ...(nl + 1 < chunk.length ? [chunk.subarray(nl + 1)] : []));
        return line.toString('utf8').replace(/\r$/, '');
      }
      if (this.ended) {
        const rest = Buffer.concat(this.chunks);
        this.chunks = [];
        return rest.length > 0 ? rest.toString('utf8').replace(/\r$/, '') : null;
      }
      await this.more(signal);
    }
  }

  /** Everything up to End (`[Console]::In.ReadToEnd()`). */
  async readToEnd(signal: AbortSignal): Promise<string> {
    while (!this.ended) await this.more(signal);
    const all = Buffer.concat(this.chunks);
    this.chunks = [];
    return all.toString('utf8');
  }
}

/** An OEM code page can show ASCII only here: anything else becomes `?`, as WinRS does with 437. */
const oem = (text: string): Buffer => Buffer.from(text.replace(/[^\x00-\x7f]/gu, '?'), 'latin1');

export class ProcessIo {
  /** `[Console]::OutputEncoding` is UTF-8 (code page 65001, or the script set it). */
  utf8: boolean;
  /** PowerShell error records, serialised as CLIXML on stderr when the process ends. */
  readonly errorRecords: string[][] = [];
  /** `$PID` and its StartTime, once the host has listed the process. */
  pid = 0;
  started = new Date(0);

  constructor(
    private readonly write: (stream: StreamName, data: Buffer) => void,
    readonly stdin: StdinBuffer,
    readonly signal: AbortSignal,
    options: { utf8: boolean },
  ) {
    this.utf8 = options.utf8;
  }

  /** A program this process starts: it writes to the same console and reads the same stdin, but ends on its own signal. */
  child(signal: AbortSignal): ProcessIo {
    return new ProcessIo(this.write, this.stdin, signal, { utf8: this.utf8 });
  }

  private encode(text: string): Buffer {
    return this.utf8 ? Buffer.from(text, 'utf8') : oem(text);
  }

  /** A line on stdout; Windows ends lines with CRLF. */
  line(text: string): void {
    this.check();
    this.write('stdout', this.encode(`${text}\r\n`));
  }

  /** A line on stderr, as `[Console]::Error.WriteLine` writes it. */
  errorLine(text: string): void {
    this.check();
    this.write('stderr', this.encode(`${text}\r\n`));
  }

  raw(stream: StreamName, text: string): void {
    this.check();
    this.write(stream, this.encode(text));
  }

  check(): void {
    if (this.signal.aborted) throw new Killed();
  }

  /** Sleeps in real time; a terminated process wakes with Killed. */
  async sleep(ms: number): Promise<void> {
    this.check();
    try {
      await delay(ms, undefined, { signal: this.signal });
    } catch {
      throw new Killed();
    }
  }

  readLine(): Promise<string | null> {
    return this.stdin.readLine(this.signal);
  }

  readToEnd(): Promise<string> {
    return this.stdin.readToEnd(this.signal);
  }
}
