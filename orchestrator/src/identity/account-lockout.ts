import type pg from 'pg';

export interface LockoutPolicy {
  /** Failures in a row before the lock. */
  threshold: number;
  /** The first lock; each further failure doubles it, up to `maxSeconds`. */
  seconds: number;
  maxSeconds: number;
}

export type Attempt =
  { locked: false; failures: number; lockedForSeconds: number | null } | { locked: true; retryAfterSeconds: number };

// Failures are forgotten after a day without one (and at once on a successful sign-in).
const FORGET = `interval '1 day'`;

const lockFor = (failures: string) =>
  `CASE WHEN ${failures} >= $3 THEN now() + make_interval(secs => LEAST($5::float8, $4::float8 * power(2::float8, LEAST(${failures} - $3, 40)))) END`;
const NEXT = `((CASE WHEN f.last_failure_at < now() - ${FORGET} THEN 0 ELSE f.failures END) + 1)`;

/**
 * Starts a sign-in attempt against a (tenant, user name), by name whether or not it exists. The
 * attempt is counted as a failure *before* its password is checked, in one statement, so that
 * concurrent guesses cannot slip past the threshold; a success clears the count again. While the
 * name is locked nothing is counted and the answer says how long the lock lasts.
 */
export const beginAttempt = async (
  db: pg.Pool,
  tenant: string,
  username: string,
  policy: LockoutPolicy,
): Promise<Attempt> => {
  const params = [tenant, username, policy.threshold, policy.seconds, policy.maxSeconds];
  const { rows } = await db.query<{ failures: number; locked_for: number | null }>(
    `INSERT INTO sign_in_failures AS f (tenant, username, failures, locked_until) VALUES ($1, $2, 1, ${lockFor('1')})
     ON CONFLICT (tenant, username) DO UPDATE SET failures = ${NEXT}, locked_until = ${lockFor(NEXT)}, last_failure_at = now()
       WHERE f.locked_until IS NULL OR f.locked_until <= now()
     RETURNING failures, ceil(extract(epoch FROM locked_until - now()))::int AS locked_for`,
    params,
  );
  const counted = rows[0];
  if (counted) return { locked: false, failures: counted.failures, lockedForSeconds: counted.locked_for };
  const lock = await db.query<{ s: number }>(
    `SELECT ceil(extract(epoch FROM locked_until - now()))::int AS s FROM sign_in_failures WHERE tenant = $1 AND username = $2`,
    [tenant, username],
  );
  return { locked: true, retryAfterSeconds: Math.max(1, lock.rows[0]?.s ?? 1) };
};

/** A successful sign-in (or an operator's unlock) clears the name's failures. */
export const clearFailures = async (db: pg.Pool | pg.PoolClient, tenant: string, username: string): Promise<void> => {
  await db.query('DELETE FROM sign_in_failures WHERE tenant = $1 AND username = $2', [tenant, username]);
};

/** Forgets names that are neither locked nor failed within a day (guessed names included). */
export const pruneFailures = async (db: pg.Pool): Promise<void> => {
  await db.query(
    `DELETE FROM sign_in_failures WHERE last_failure_at < now() - ${FORGET} AND (locked_until IS NULL OR locked_until < now())`,
  );
};
