import { ErrorType, type FieldIssue } from '@opsc/contracts';

/**
 * A failure the orchestrator's own code names: its type says what went wrong, its message is safe
 * to show the caller (no secret, no internal detail), its issues name the fields at fault. The API
 * answers it through one table (api/errors.ts); nothing below the API knows about HTTP.
 */
export class DomainError extends Error {
  constructor(
    readonly type: ErrorType,
    message: string,
    readonly issues?: FieldIssue[],
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Something asked for by name or id does not exist (for this tenant: another tenant's looks the same). */
export class NotFound extends DomainError {
  constructor(message: string, issues?: FieldIssue[]) {
    super(ErrorType.NotFound, message, issues);
  }
}

/** The request is well formed but the state it meets rules it out (a stale plan hash, a finished job). */
export class Conflict extends DomainError {
  constructor(message: string) {
    super(ErrorType.Conflict, message);
  }
}

/** Input that does not hold: the issues name each field and what is wrong with it. */
export class InvalidInput extends DomainError {
  constructor(message: string, issues?: FieldIssue[]) {
    super(ErrorType.ValidationFailed, message, issues);
  }
}

/** A plan (in words, a draft or executable) that does not make a runnable job. */
export class InvalidPlan extends DomainError {
  constructor(message: string, issues: FieldIssue[]) {
    super(ErrorType.PlanInvalid, message, issues);
  }
}

/** A service the operation needs (Temporal, a worker) did not take it; trying again later may work. */
export class Unavailable extends DomainError {
  constructor(message: string) {
    super(ErrorType.Unavailable, message);
  }
}

/** A broken invariant of our own: a bug, never the caller's fault. */
export class Internal extends DomainError {
  constructor(message: string) {
    super(ErrorType.Internal, message);
  }
}

/** A unique-name violation (PostgreSQL 23505) on saving a named `noun`, as a clear conflict; any other error as it is. */
export const uniqueNameOf =
  (noun: string) =>
  (err: unknown, name: string): never => {
    if ((err as { code?: string }).code === '23505') throw new Conflict(`a ${noun} named "${name}" exists already`);
    throw err;
  };
