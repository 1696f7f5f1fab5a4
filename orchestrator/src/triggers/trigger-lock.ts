import type pg from 'pg';
import { Unavailable } from '../errors.js';

const TRY = `SELECT pg_try_advisory_lock(hashtextextended('opsc-trigger:' || $1, 0)) AS ok`;
const UNLOCK = `SELECT pg_advisory_unlock(hashtextextended('opsc-trigger:' || $1, 0))`;

/**
 * Runs `work` holding the trigger's lock (a PostgreSQL session lock: every orchestrator process
 * sees it, and it goes with the connection if the process dies). A delivery waiting for it holds
 * no connection meanwhile: waiters holding pooled connections would starve the holder, whose run
 * needs the pool too. After `waitMs`, 503 (the sender retries).
 */
export const withTriggerLock = async <T>(
  pool: pg.Pool,
  triggerId: string,
  work: (db: pg.PoolClient) => Promise<T>,
  waitMs = 30_000,
): Promise<T> => {
  const deadline = Date.now() + waitMs;
  for (let pause = 20; ; pause = Math.min(pause * 2, 250)) {
    const db = await pool.connect();
    let locked = false;
    try {
      locked = (await db.query<{ ok: boolean }>(TRY, [triggerId])).rows[0]?.ok === true;
      if (locked) return await work(db);
    } finally {
      if (locked)
        await db.query(UNLOCK, [triggerId]).then(
          () => db.release(),
          (err: Error) => db.release(err),
        );
      else db.release();
    }
    if (Date.now() > deadline)
      throw new Unavailable('other deliveries to this trigger are being handled; retry in a few seconds');
    await new Promise((resolve) => setTimeout(resolve, pause + Math.random() * pause));
  }
};
