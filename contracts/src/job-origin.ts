import { z } from 'zod';

const Id = z.string().min(1).max(200);

/**
 * What started a job, set by the server (never read from a request body): a person's request, a
 * retry of another job, a template run by a person, a schedule or a trigger. Recorded on the job,
 * shown in the API and the monitor, and given to Temporal as the `OpscOrigin` search attribute.
 */
export const JobOrigin = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('manual') }).strict(),
  z.object({ kind: z.literal('retry'), jobId: Id }).strict(),
  z.object({ kind: z.literal('template'), templateId: Id, version: z.number().int().positive() }).strict(),
  z
    .object({ kind: z.literal('schedule'), scheduleId: Id, templateId: Id, version: z.number().int().positive() })
    .strict(),
  z
    .object({ kind: z.literal('trigger'), triggerId: Id, templateId: Id, version: z.number().int().positive() })
    .strict(),
]);
export type JobOrigin = z.infer<typeof JobOrigin>;

export const MANUAL_ORIGIN: JobOrigin = { kind: 'manual' };

/** The origin as one keyword for Temporal's search (`kind` or `kind:id`), e.g. `schedule:nightly-disk`. */
export const originKeyword = (origin: JobOrigin): string => {
  switch (origin.kind) {
    case 'manual':
      return 'manual';
    case 'retry':
      return `retry:${origin.jobId}`;
    case 'template':
      return `template:${origin.templateId}`;
    case 'schedule':
      return `schedule:${origin.scheduleId}`;
    case 'trigger':
      return `trigger:${origin.triggerId}`;
  }
};

/** A stored origin, read defensively: a row that is not a known origin reads as manual. */
export const readOrigin = (value: unknown): JobOrigin => {
  const parsed = JobOrigin.safeParse(value);
  return parsed.success ? parsed.data : MANUAL_ORIGIN;
};
