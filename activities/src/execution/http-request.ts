import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import { ErrorType, type HttpOutput, type SendHttpRequestInput } from '@opsc/contracts';
import type { ExecutionDeps } from './deps.js';
import { CappedBuffer } from './capped-buffer.js';
import { UNREACHABLE_CODES } from './network-errors.js';


/** Maps a fetch failure to an error type; network faults stay retryable. */
const classify = (err: unknown, input: SendHttpRequestInput, timedOut: boolean): Error => {
  if (timedOut) return ApplicationFailure.retryable(`no answer from ${input.url} within ${input.timeoutSeconds}s`, ErrorType.Timeout);
  const code = (err as { cause?: { code?: string } }).cause?.code;
  if (code && UNREACHABLE_CODES.has(code)) {
    return ApplicationFailure.retryable(`${new URL(input.url).host} unreachable (${code})`, ErrorType.HostUnreachable);
  }
  return ApplicationFailure.retryable(`request to ${new URL(input.url).host} failed (${code ?? (err as Error).message})`, ErrorType.ConnectionLost);
};

const readCapped = async (response: Response, capBytes: number): Promise<CappedBuffer> => {
  const body = new CappedBuffer(capBytes);
  if (!response.body) return body;
  for await (const chunk of response.body) {
    body.push(Buffer.from(chunk));
    // Keep reading only to count; stop once far past the cap to spare memory and bandwidth.
    if (body.totalBytes > capBytes * 4) {
      await response.body.cancel();
      break;
    }
  }
  return body;
};

export const createSendHttpRequest =
  (deps: ExecutionDeps) =>
  async (input: SendHttpRequestInput): Promise<HttpOutput> => {
    const ctx = Context.current();
    const startedAt = new Date();
    const started = performance.now();
    const timeout = AbortSignal.timeout(input.timeoutSeconds * 1000);
    const signal = AbortSignal.any([timeout, ctx.cancellationSignal]);
    const heartbeat = setInterval(() => ctx.heartbeat({ phase: 'waiting' }), 1_000);
    try {
      let response: Response;
      let body: CappedBuffer;
      try {
        response = await fetch(input.url, {
          method: input.httpMethod,
          headers: input.headers,
          ...(input.body !== undefined && { body: input.body }),
          signal,
        });
        body = await readCapped(response, deps.limits.storeCapBytes);
      } catch (err) {
        if (ctx.cancellationSignal.aborted) throw new CancelledFailure('cancelled while waiting for the answer');
        const failure = classify(err, input, timeout.aborted);
        await deps.store.saveResult({
          context: input, attempt: ctx.info.attempt, method: 'http', stdout: '', stderr: failure.message,
          stdoutTruncated: false, stderrTruncated: false, startedAt, finishedAt: new Date(),
          error: { type: (failure as ApplicationFailure).type as ErrorType, message: failure.message },
        });
        throw failure;
      }
      await deps.store.saveResult({
        context: input, attempt: ctx.info.attempt, method: 'http', httpStatus: response.status,
        stdout: body.text(), stderr: '', stdoutTruncated: body.truncated, stderrTruncated: false,
        startedAt, finishedAt: new Date(),
      });
      const cap = deps.limits.resultCapBytes;
      return {
        kind: 'http',
        status: response.status,
        contentType: response.headers.get('content-type'),
        body: body.text(cap),
        bodyTruncated: body.totalBytes > cap,
        durationMs: Math.round(performance.now() - started),
      };
    } finally {
      clearInterval(heartbeat);
    }
  };
