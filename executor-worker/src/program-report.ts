import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type pg from 'pg';
import {
  checkLocalPrograms,
  reportLocalPrograms,
  reportPresence,
  type ProgramCheck,
  type Sandbox,
} from '@opsc/activities/execution';

/** How often an executor checks its programs again (a package installed meanwhile shows up). */
const REPORT_EVERY_MS = 5 * 60_000;
/** How often it says it still runs: the orchestrator reads a pool as quiet after EXECUTOR_POOL_FRESH_SECONDS without. */
const PRESENCE_EVERY_MS = 15_000;

export interface ProgramReports {
  /** What the last check found. */
  latest(): Record<string, ProgramCheck>;
  stop(): void;
}

/**
 * Checks the allowed local programs now and every few minutes, and records them for the
 * orchestrator's catalog. A failed report is logged and tried again at the next round: it never
 * stops the executor.
 */
export const startProgramReports = async (opts: {
  pool: pg.Pool;
  sandbox: Sandbox;
  programs: readonly string[];
  taskQueue: string;
  /** The pool it serves and, for a named pool, the tenants it serves it for. */
  executorPool: string;
  tenantIds: readonly string[];
  log: (msg: string, fields?: Record<string, unknown>, level?: string) => void;
}): Promise<ProgramReports> => {
  const executorId = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
  let latest: Record<string, ProgramCheck> = {};
  const round = async () => {
    try {
      if (!opts.sandbox.status().ok) await opts.sandbox.probe();
      latest = await checkLocalPrograms(opts.sandbox, opts.programs);
      await reportLocalPrograms(opts.pool, {
        executorId,
        taskQueue: opts.taskQueue,
        programs: latest,
        pool: opts.executorPool,
        tenantIds: opts.tenantIds,
      });
      const missing = Object.entries(latest).filter(([, c]) => !c.ok);
      if (missing.length)
        opts.log(
          'local programs that steps cannot use',
          Object.fromEntries(missing.map(([name, c]) => [name, c.ok ? '' : c.reason])),
          'warn',
        );
    } catch (err) {
      opts.log('could not record the local programs', { error: (err as Error).message }, 'warn');
    }
  };
  await round();
  const timer = setInterval(() => void round(), REPORT_EVERY_MS);
  timer.unref();
  // Between reports, only that it runs: a row gone (a database restored, say) is written again whole.
  const presence = setInterval(
    () =>
      void reportPresence(opts.pool, executorId).then(
        (present) => (present ? undefined : round()),
        (err: unknown) => opts.log('could not say the executor runs', { error: (err as Error).message }, 'warn'),
      ),
    PRESENCE_EVERY_MS,
  );
  presence.unref();
  return {
    latest: () => latest,
    stop: () => {
      clearInterval(timer);
      clearInterval(presence);
    },
  };
};
