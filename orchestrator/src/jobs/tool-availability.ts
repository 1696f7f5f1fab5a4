import type pg from 'pg';
import { localProgramOf, type ToolCatalog } from '@opsc/planning';
import { DEFAULT_POOL } from '@opsc/contracts';

/** Reports older than this are of executors gone (each reports every 5 minutes). */
const LIVE_SECONDS = 900;

interface ProgramReport {
  programs: Record<string, { ok: boolean; reason?: string }>;
}

/**
 * The tools no live executor can run, and why: a local-command tool whose program is missing or
 * broken on every executor that reported (executor_programs). With no report at all (no executor
 * has started yet) nothing is hidden: a step then waits for an executor as before.
 */
export const unavailableTools = (catalog: ToolCatalog, reports: readonly ProgramReport[]): Map<string, string> => {
  const hidden = new Map<string, string>();
  if (reports.length === 0) return hidden;
  for (const tool of catalog.all()) {
    const program = localProgramOf(tool);
    if (!program) continue;
    const checks = reports.map((r) => r.programs[program]).filter((c) => c !== undefined);
    if (checks.some((c) => c.ok)) continue;
    hidden.set(
      tool.name,
      checks[0]?.reason ?? `${program} is not in the executors' local command allowlist (EXECUTOR_LOCAL_COMMANDS)`,
    );
  }
  return hidden;
};

export interface ToolAvailability {
  /** The catalog as planners, the validator and people see it now. */
  catalog(): ToolCatalog;
  refresh(): Promise<void>;
  stop(): void;
}

/** Keeps the catalog's view of what executors can run, read again every `everyMs`. */
export const createToolAvailability = (
  pool: pg.Pool,
  full: ToolCatalog,
  onError: (err: Error) => void,
  everyMs = 15_000,
): ToolAvailability => {
  let view = full;
  const refresh = async () => {
    // Local programs run on the default pool's executors only (docs/executor-pools.md): another
    // pool's executors say nothing about them.
    const { rows } = await pool.query<ProgramReport>(
      `SELECT programs FROM executor_programs WHERE pool = $2 AND reported_at > now() - make_interval(secs => $1)
        ORDER BY reported_at DESC`,
      [LIVE_SECONDS, DEFAULT_POOL],
    );
    view = full.withUnavailable(unavailableTools(full, rows));
  };
  const timer = setInterval(() => void refresh().catch(onError), everyMs);
  timer.unref();
  return { catalog: () => view, refresh, stop: () => clearInterval(timer) };
};
