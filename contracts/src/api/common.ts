import { z } from 'zod';

/**
 * A moment as the API writes it: ISO 8601 (`2026-01-31T12:00:00.000Z`). PostgreSQL and the
 * orchestrator hold such times as `Date`s, which JSON writes as this text.
 */
export const Timestamp = z.iso.datetime({ offset: true });

/** Who may call a route: `public` needs no sign-in; the roles include the ones before them. */
export const ROLES = ['viewer', 'operator', 'approver', 'admin'] as const;
export const Role = z.enum(ROLES);
export type Role = z.infer<typeof Role>;

/** A target by id and name, as answers name them. */
export const TargetName = z.object({ id: z.string(), name: z.string() });

/** An error as a result or a job records it. */
export const RecordedError = z.object({ type: z.string(), message: z.string().nullable() });

/**
 * What the orchestrator may hand to `res.json` for an answer of type `T`: the same, except that a
 * `Date` may stand wherever the answer has text, since JSON writes it as an ISO time.
 */
export type Sent<T> = T extends string
  ? T | Date
  : T extends readonly (infer U)[]
    ? Sent<U>[]
    : T extends object
      ? { [K in keyof T]: Sent<T[K]> }
      : T;
