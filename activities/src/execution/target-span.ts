import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { ApplicationFailure } from '@temporalio/common';
import type { ActionContext, ExecutionMethod } from '@opsc/contracts';

// A no-op until the executor starts tracing (docs/tracing.md); then the span's parent is the
// activity's, which the Temporal interceptor made from the workflow's trace context.
const tracer = trace.getTracer('@opsc/activities');

/**
 * The call to one target (SSH, WinRM, HTTP, a database, a local command) as a span. Its attributes
 * are bounded and carry no secret: the method, the job, the step and the target's id and name;
 * never the command, its arguments, its output, a credential or an error's message.
 */
export const inTargetSpan = <O>(method: ExecutionMethod, input: ActionContext, call: () => Promise<O>): Promise<O> =>
  tracer.startActiveSpan(
    method,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'opsc.method': method,
        'opsc.job.id': input.jobId,
        'opsc.step.id': input.stepId,
        'opsc.target.id': input.target.id,
        'opsc.target.name': input.target.name,
        ...(input.rerun !== undefined && { 'opsc.rerun': input.rerun }),
      },
    },
    async (span) => {
      try {
        return await call();
      } catch (err) {
        span.setStatus({ code: SpanStatusCode.ERROR });
        // The failure's kind (a fixed set of names), not its message.
        span.setAttribute(
          'error.type',
          err instanceof ApplicationFailure ? (err.type ?? 'ApplicationFailure') : 'Error',
        );
        throw err;
      } finally {
        span.end();
      }
    },
  );
