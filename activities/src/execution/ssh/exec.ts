import type { Client, ClientChannel } from 'ssh2';
import { CappedBuffer } from '../capped-buffer.js';
import { pidLinePattern } from './remote-command.js';

export interface ExecOptions {
  /** The full command line (see `wrapScript`). */
  command: string;
  /** Written to the command's stdin, then stdin is closed (sudo's password, when it needs one). */
  stdin?: string;
  nonce: string;
  captureCapBytes: number;
  /** Client-side deadline: the remote `timeout` should have ended the command before this. */
  deadlineMs: number;
  signal?: AbortSignal;
  onData?: (stream: 'stdout' | 'stderr', bytes: number) => void;
  /** The command's own output as it arrives (the wrapper's pid line taken out). */
  onOutput?: (stream: 'stdout' | 'stderr', chunk: Buffer) => void;
  /** Stops the remote process group (over another channel). */
  kill: (pgid: number) => Promise<void>;
  /** Stops what the command may have started when it is stopped before its pid line came (a detached change). */
  killUnreported?: () => Promise<void>;
  /** Called once the channel is open: from then on the command may have run on the target. */
  onOpen?: () => void;
}

export interface ExecOutcome {
  exitCode: number | null;
  signal: string | null;
  stdout: CappedBuffer;
  stderr: CappedBuffer;
  /** The wrapper's process group on the target; null when it never started (sudo refused, say). */
  pgid: number | null;
  durationMs: number;
  /** The channel closed without an exit status: the connection dropped. */
  connectionLost: boolean;
  aborted: boolean;
  timedOut: boolean;
}

/** How long a stopped command's channel may take to close before the step gives up on it. */
const ABANDON_AFTER_MS = 15_000;

/** A channel could not be opened on an established connection. */
export class ChannelOpenError extends Error {
  constructor(
    message: string,
    readonly prohibited: boolean,
  ) {
    super(message);
  }
}

/** What the server said about the command's end; recorded from the moment the channel opens. */
interface ChannelEnd {
  exited: boolean;
  code: number | null;
  signal: string | null;
  closed: Promise<void>;
}

/**
 * Opens an exec channel. The exit and close listeners go on in the open callback itself: the
 * server's exit-status and close can arrive in the same read as the open confirmation, and an event
 * emitted before a listener exists is lost (stream data is buffered; events are not).
 */
const openChannel = (client: Client, command: string): Promise<{ stream: ClientChannel; end: ChannelEnd }> =>
  new Promise((resolve, reject) => {
    client.exec(command, (err, stream) => {
      if (err) {
        const reason = (err as Error & { reason?: number }).reason;
        // SSH_OPEN_ADMINISTRATIVELY_PROHIBITED (1): sshd's MaxSessions is lower than we assumed.
        reject(new ChannelOpenError(err.message, reason === 1));
        return;
      }
      const end: ChannelEnd = {
        exited: false,
        code: null,
        signal: null,
        closed: new Promise((done) => stream.once('close', () => done())),
      };
      stream.on('exit', (code: number | null, signalName?: string) => {
        end.exited = true;
        end.code = typeof code === 'number' ? code : null;
        end.signal = signalName ?? null;
      });
      resolve({ stream, end });
    });
  });

/** Runs a command on an exec channel (no pty), draining stdout and stderr as they come. */
export const execOnChannel = async (client: Client, opts: ExecOptions): Promise<ExecOutcome> => {
  const started = performance.now();
  const { stream, end } = await openChannel(client, opts.command);
  opts.onOpen?.();
  const stdout = new CappedBuffer(opts.captureCapBytes);
  const stderr = new CappedBuffer(opts.captureCapBytes);
  const pidLine = pidLinePattern(opts.nonce);
  let head: Buffer | null = Buffer.alloc(0);
  let pgid: number | null = null;
  let aborted = false;
  let timedOut = false;

  let settle: () => void = () => undefined;
  const finished = Promise.race([end.closed, new Promise<void>((resolve) => (settle = resolve))]);
  const stop = (why: 'abort' | 'deadline') => {
    if (end.exited) return;
    if (why === 'abort') aborted = true;
    else timedOut = true;
    const killed = (pgid === null ? (opts.killUnreported?.() ?? Promise.resolve()) : opts.kill(pgid)).catch(
      () => undefined,
    );
    void killed.then(() => stream.close());
    // A channel the server never closes must not hold the step: the remote `timeout` ends it anyway.
    setTimeout(settle, ABANDON_AFTER_MS).unref();
  };
  const onAbort = () => stop('abort');
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const deadline = setTimeout(() => stop('deadline'), opts.deadlineMs);

  const out = (chunk: Buffer) => {
    stdout.push(chunk);
    opts.onOutput?.('stdout', chunk);
  };
  stream.on('data', (chunk: Buffer) => {
    opts.onData?.('stdout', chunk.length);
    if (head === null) return out(chunk);
    // The wrapper's first line carries its process group id; it is not the command's output.
    head = Buffer.concat([head, chunk]);
    const text = head.toString('latin1');
    const match = pidLine.exec(text);
    if (match) {
      pgid = Number(match[1]);
      const rest = head.subarray(match[0].length);
      head = null;
      if (rest.length) out(rest);
      if (aborted || timedOut) void opts.kill(pgid).catch(() => undefined);
    } else if (text.includes('\n') || head.length > 256) {
      const all = head;
      head = null;
      out(all);
    }
  });
  stream.stderr.on('data', (chunk: Buffer) => {
    opts.onData?.('stderr', chunk.length);
    stderr.push(chunk);
    opts.onOutput?.('stderr', chunk);
  });
  if (opts.stdin !== undefined) stream.end(opts.stdin);
  else stream.end();

  await finished;
  clearTimeout(deadline);
  opts.signal?.removeEventListener('abort', onAbort);
  if (head !== null && head.length) out(head);
  return {
    exitCode: end.code,
    signal: end.signal,
    stdout,
    stderr,
    pgid,
    durationMs: performance.now() - started,
    connectionLost: !end.exited && !aborted && !timedOut,
    aborted,
    timedOut,
  };
};
