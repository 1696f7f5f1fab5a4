import { z } from 'zod';

/**
 * What a schedule's overlap policy does when an action comes while the previous one's job still
 * runs (Temporal's ScheduleOverlapPolicy; an action lasts as long as its job):
 * `skip` starts nothing; `buffer_one` starts it once the previous ends (one waits at most);
 * `buffer_all` queues every one; `allow_all` starts it at once; `cancel_other` cancels the previous
 * job (as the schedule's owner) and then starts; `terminate_other` stops waiting for the previous
 * job (which runs on) and starts.
 */
export const ScheduleOverlap = z.enum([
  'skip',
  'buffer_one',
  'buffer_all',
  'allow_all',
  'cancel_other',
  'terminate_other',
]);
export type ScheduleOverlap = z.infer<typeof ScheduleOverlap>;

interface CronField {
  name: string;
  min: number;
  max: number;
  names: readonly string[];
}

const FIELDS: readonly CronField[] = [
  { name: 'minute', min: 0, max: 59, names: [] },
  { name: 'hour', min: 0, max: 23, names: [] },
  { name: 'day of month', min: 1, max: 31, names: [] },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'],
  },
  { name: 'day of week', min: 0, max: 6, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

const valueOf = (text: string, field: CronField): number | undefined => {
  const named = field.names.indexOf(text.toLowerCase());
  if (named >= 0) return named + (field.name === 'month' ? 1 : 0);
  if (!/^\d{1,2}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= field.min && n <= field.max ? n : undefined;
};

/**
 * Why a five-field cron expression (minute hour day-of-month month day-of-week; `*`, lists, ranges,
 * steps, month and day names) is not one, or null when it is. `@hourly`, `@daily`, `@weekly`,
 * `@monthly` and `@yearly` are accepted as they are.
 */
export const cronProblem = (expression: string): string | null => {
  const text = expression.trim();
  if (/^@(hourly|daily|weekly|monthly|yearly)$/.test(text)) return null;
  const parts = text.split(/\s+/);
  if (parts.length !== 5)
    return `has ${parts.length} fields; a cron expression has 5 (minute hour day-of-month month day-of-week)`;
  for (const [i, part] of parts.entries()) {
    const field = FIELDS[i]!;
    for (const item of part.split(',')) {
      const m = /^(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:\/(\d{1,2}))?$/.exec(item);
      const range = m?.[1];
      if (!range) return `the ${field.name} field "${part}" is not a value, range, list or step`;
      if (m[2] !== undefined && Number(m[2]) < 1) return `the ${field.name} field "${part}" has a step of 0`;
      if (range === '*') continue;
      const [from, to] = range.split('-');
      const a = valueOf(from!, field);
      const b = to === undefined ? a : valueOf(to, field);
      if (a === undefined || b === undefined || b < a)
        return `the ${field.name} field "${part}" is outside ${field.min}-${field.max}`;
    }
  }
  return null;
};

/** Whether the name is a time zone this runtime knows (IANA names such as `Europe/Berlin`, or `UTC`). */
export const isTimeZone = (name: string): boolean => {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]{0,99}$/.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
};

export const CronExpression = z
  .string()
  .max(200)
  .superRefine((value, ctx) => {
    const problem = cronProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .transform((value) => value.trim().replace(/\s+/g, ' '));

export const TimeZone = z
  .string()
  .max(100)
  .refine(isTimeZone, { message: 'is not a time zone (an IANA name such as Europe/Berlin, or UTC)' });
