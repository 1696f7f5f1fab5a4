import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { withLogContext, type LogContext, type Logger } from './log.js';

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * What an activity's first argument says about the line's subject, where it has it: the job
 * (`jobId`), the step (`stepId`) and the target (`target.name`, or the target ids of a batch).
 */
export const inputContext = (input: unknown): LogContext => {
  if (input === null || typeof input !== 'object') return {};
  const i = input as Record<string, unknown>;
  const target = i.target as Record<string, unknown> | undefined;
  return {
    ...(text(i.jobId) && { jobId: text(i.jobId) }),
    ...(text(i.stepId) && { step: text(i.stepId) }),
    ...(target && typeof target === 'object' && text(target.name) && { target: text(target.name) }),
  };
};

/**
 * Every log line written while an activity runs carries its workflow, run, activity id and attempt,
 * and the job, step and target of its input. With a logger, each activity also ends with a debug
 * line of its own (type, outcome, duration) in that context.
 */
export const createLogContextInterceptor =
  (log?: Logger): ActivityInterceptorsFactory =>
  (ctx) => ({
    inbound: {
      execute: (input, next) => {
        const info = ctx.info;
        const fields: LogContext = {
          ...(info.workflowExecution && {
            workflowId: info.workflowExecution.workflowId,
            runId: info.workflowExecution.runId,
          }),
          activityId: info.activityId,
          attempt: info.attempt,
          ...inputContext(input.args[0]),
        };
        return withLogContext(fields, async () => {
          const started = performance.now();
          const ms = () => Math.round(performance.now() - started);
          try {
            const result = await next(input);
            log?.debug('activity ended', { activityType: info.activityType, outcome: 'completed', ms: ms() });
            return result;
          } catch (err) {
            log?.debug('activity ended', {
              activityType: info.activityType,
              outcome: 'failed',
              ms: ms(),
              error: err,
            });
            throw err;
          }
        });
      },
    },
  });

/** The log context alone, without lines of its own. */
export const logContextInterceptor: ActivityInterceptorsFactory = createLogContextInterceptor();
