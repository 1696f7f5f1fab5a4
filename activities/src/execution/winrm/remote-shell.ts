import { ErrorType } from '@opsc/contracts';
import { CappedBuffer } from '../capped-buffer.js';
import { RemoteFailure } from '../remote-failure.js';
import {
  commandRequest,
  createShellRequest,
  deleteShellRequest,
  receiveRequest,
  sendRequest,
  Signal,
  signalRequest,
} from './soap.js';
import { OPERATION_TIMEOUT_CODE, parseCommandId, parseReceive, parseShellId } from './soap-response.js';
import { WsmanFaultError, type WinrmConnection } from './transport.js';

/**
 * Quota faults a Create can meet while other work holds the user's shells or operations
 * (ERROR_WSMAN_QUOTA_MAX_SHELLS, ERROR_WSMAN_QUOTA_MAX_OPERATIONS): worth waiting out.
 */
export const QUOTA_FAULT_CODES: ReadonlySet<string> = new Set(['2150859173', '2150859174']);

export interface ShellSettings {
  /** WS-Management MaxEnvelopeSize: no request may be larger, and the server keeps its answers within it. */
  maxEnvelopeSize: number;
  /** How long the server may hold a Receive open before answering with the operation-timeout fault. */
  operationTimeoutSeconds: number;
}

/** Room left for stdin in one Send, after the envelope and base64's growth. */
export const maxSendBytes = (maxEnvelopeSize: number): number => Math.floor(((maxEnvelopeSize - 4_096) * 3) / 4);

export interface RemoteCommand {
  command: string;
  args: string[];
  /** Written to the command's stdin in order, then stdin is closed; each chunk fits one Send. */
  stdin?: AsyncIterable<Buffer> | Iterable<Buffer>;
  /** Milliseconds the command may run; then it is terminated and the outcome says `timedOut`. */
  timeoutMs: number;
  signal?: AbortSignal;
  captureCapBytes: number;
  /** Output as each Receive brings it. */
  onOutput?: (stream: 'stdout' | 'stderr', bytes: number, chunk: Buffer) => void;
  /** After each Send of stdin: its size and the payload itself (an upload counts the artifact bytes it carried). */
  onSent?: (bytes: number, chunk: Buffer) => void;
}

export interface RemoteOutcome {
  exitCode: number | null;
  stdout: CappedBuffer;
  stderr: CappedBuffer;
  durationMs: number;
  aborted: boolean;
  timedOut: boolean;
}

/** Seconds a request may take beyond what the server was told it may use. */
const REQUEST_MARGIN_MS = 15_000;
const QUOTA_RETRIES = 5;
/** Signal and Delete after a stop get this long; the shell is the server's to reap after that. */
const CLEANUP_TIMEOUT_MS = 10_000;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/**
 * Runs one command in a new Windows Remote Shell: Create, Command, Send stdin, Receive until the
 * command is done (asking again on the operation-timeout fault), Delete. A stop (deadline or
 * cancellation) interrupts the request in flight, terminates the command and deletes the shell.
 */
export const runRemoteCommand = async (
  conn: WinrmConnection,
  run: RemoteCommand,
  settings: ShellSettings,
): Promise<RemoteOutcome> => {
  const startedAt = Date.now();
  const stop = new AbortController();
  let timedOut = false;
  const deadline = setTimeout(() => ((timedOut = true), stop.abort()), run.timeoutMs);
  const onCancel = () => stop.abort();
  run.signal?.addEventListener('abort', onCancel, { once: true });
  if (run.signal?.aborted) stop.abort();

  const base = { to: conn.url, maxEnvelopeSize: settings.maxEnvelopeSize };
  const post = (soap: string, operationTimeoutSeconds = 60) =>
    conn.post(soap, operationTimeoutSeconds * 1000 + REQUEST_MARGIN_MS, stop.signal);
  const stdout = new CappedBuffer(run.captureCapBytes);
  const stderr = new CappedBuffer(run.captureCapBytes);
  let shellId: string | null = null;
  let commandId: string | null = null;
  let exitCode: number | null = null;
  let done = false;

  try {
    for (let attempt = 1; ; attempt++) {
      try {
        shellId = parseShellId(await post(createShellRequest({ ...base, operationTimeoutSeconds: 60 })));
        break;
      } catch (err) {
        // The per-user shell quota is full (other jobs on this host): wait for one to close.
        if (
          !(err instanceof WsmanFaultError && err.fault.code !== null && QUOTA_FAULT_CODES.has(err.fault.code)) ||
          attempt >= QUOTA_RETRIES
        )
          throw err;
        await sleep(1_000 * 2 ** (attempt - 1), stop.signal);
        if (stop.signal.aborted) throw new RemoteFailure(ErrorType.Cancelled, 'stopped while waiting for a shell');
      }
    }
    commandId = parseCommandId(
      await post(
        commandRequest({ ...base, operationTimeoutSeconds: 60, shellId, command: run.command, args: run.args }),
      ),
    );

    if (run.stdin) {
      const ids = { shellId, commandId };
      let pending: Buffer | null = null;
      for await (const chunk of run.stdin) {
        if (pending) {
          await post(sendRequest({ ...base, operationTimeoutSeconds: 60, ...ids, data: pending, end: false }));
          run.onSent?.(pending.length, pending);
        }
        pending = chunk;
      }
      await post(
        sendRequest({ ...base, operationTimeoutSeconds: 60, ...ids, data: pending ?? Buffer.alloc(0), end: true }),
      );
      if (pending) run.onSent?.(pending.length, pending);
    }

    while (!done) {
      let answer: string;
      try {
        answer = await post(
          receiveRequest({ ...base, operationTimeoutSeconds: settings.operationTimeoutSeconds, shellId, commandId }),
          settings.operationTimeoutSeconds,
        );
      } catch (err) {
        if (err instanceof WsmanFaultError && err.fault.code === OPERATION_TIMEOUT_CODE) continue;
        throw err;
      }
      const received = parseReceive(answer);
      for (const [name, buffer] of [
        ['stdout', stdout],
        ['stderr', stderr],
      ] as const) {
        const bytes = received[name];
        if (bytes.length === 0) continue;
        buffer.push(bytes);
        run.onOutput?.(name, bytes.length, bytes);
      }
      if (received.done) {
        done = true;
        exitCode = received.exitCode;
      }
    }
  } catch (err) {
    if (!stop.signal.aborted) throw err;
  } finally {
    clearTimeout(deadline);
    run.signal?.removeEventListener('abort', onCancel);
    await cleanUp(conn, base, shellId, done ? null : commandId);
  }
  return {
    exitCode,
    stdout,
    stderr,
    durationMs: Date.now() - startedAt,
    aborted: stop.signal.aborted && !timedOut,
    timedOut,
  };
};

/** Terminates a command still running and deletes the shell; a failure here must not hide the outcome. */
const cleanUp = async (
  conn: WinrmConnection,
  base: { to: string; maxEnvelopeSize: number },
  shellId: string | null,
  runningCommandId: string | null,
) => {
  if (!shellId) return;
  const post = (soap: string) => conn.post(soap, CLEANUP_TIMEOUT_MS, AbortSignal.timeout(CLEANUP_TIMEOUT_MS));
  const o = { ...base, operationTimeoutSeconds: 10, shellId };
  if (runningCommandId)
    await post(signalRequest({ ...o, commandId: runningCommandId, code: Signal.terminate })).catch(() => undefined);
  await post(deleteShellRequest(o)).catch(() => undefined);
};
