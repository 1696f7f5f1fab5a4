import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import { ErrorType, urlPort, type HttpOutput, type SendHttpRequestInput } from '@opsc/contracts';
import type { ExecutionDeps } from './deps.js';
import { requestAddress, type AddressedResponse } from './egress/guarded-http.js';
import { UNREACHABLE_CODES } from './network-errors.js';

/** Maps a request failure to an error type; network faults stay retryable. */
const classify = (err: unknown, url: URL, timeoutSeconds: number, timedOut: boolean): Error => {
  if (err instanceof ApplicationFailure) return err;
  if (timedOut)
    return ApplicationFailure.retryable(`no answer from ${url.host} within ${timeoutSeconds}s`, ErrorType.Timeout);
  const code = (err as NodeJS.ErrnoException).code;
  if (code && UNREACHABLE_CODES.has(code)) {
    return ApplicationFailure.retryable(`${url.host} unreachable (${code})`, ErrorType.HostUnreachable);
  }
  return ApplicationFailure.retryable(
    `request to ${url.host} failed (${code ?? (err as Error).message})`,
    ErrorType.ConnectionLost,
  );
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
    const url = new URL(input.url);
    try {
      let response: AddressedResponse;
      try {
        if (url.protocol !== 'http:' && url.protocol !== 'https:') {
          throw ApplicationFailure.nonRetryable(
            `egress refused: ${url.protocol} URLs are refused: http and https only`,
            ErrorType.EgressDenied,
          );
        }
        // The policy judges every address the name has; the request goes to one of those, not to the name.
        const [address] = await deps.egress.resolve(
          { jobId: input.jobId, tenantId: input.tenantId },
          url.hostname,
          urlPort(url),
        );
        response = await requestAddress({
          url,
          address: address!,
          method: input.httpMethod,
          headers: input.headers,
          ...(input.body !== undefined && { body: input.body }),
          signal,
          capBytes: deps.limits.storeCapBytes,
        });
      } catch (err) {
        if (ctx.cancellationSignal.aborted) throw new CancelledFailure('cancelled while waiting for the answer');
        const failure = classify(err, url, input.timeoutSeconds, timeout.aborted) as ApplicationFailure;
        await deps.store.saveResult({
          context: input,
          attempt: ctx.info.attempt,
          method: 'http',
          stdout: '',
          stderr: failure.message,
          stdoutTruncated: false,
          stderrTruncated: false,
          startedAt,
          finishedAt: new Date(),
          error: { type: failure.type as ErrorType, message: failure.message },
        });
        throw failure;
      }
      const { body } = response;
      await deps.store.saveResult({
        context: input,
        attempt: ctx.info.attempt,
        method: 'http',
        httpStatus: response.status,
        stdout: body.text(),
        stderr: response.location ? `redirect to ${response.location} (not followed)` : '',
        stdoutTruncated: body.truncated,
        stderrTruncated: false,
        startedAt,
        finishedAt: new Date(),
      });
      const cap = deps.limits.resultCapBytes;
      return {
        kind: 'http',
        status: response.status,
        contentType: response.contentType,
        body: body.text(cap),
        bodyTruncated: body.totalBytes > cap,
        durationMs: Math.round(performance.now() - started),
      };
    } finally {
      clearInterval(heartbeat);
    }
  };
