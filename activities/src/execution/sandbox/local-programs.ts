import type pg from 'pg';
import type { Sandbox } from './sandbox.js';

/** Whether the executor can run one allowed program, and why not. */
export type ProgramCheck = { ok: true } | { ok: false; reason: string };

/** Where a missing diagnostic comes from on Debian and Ubuntu, for the reason shown to operators. */
const DEBIAN_PACKAGES: Readonly<Record<string, string>> = {
  ping: 'iputils-ping',
  ping6: 'iputils-ping',
  tracepath: 'iputils-tracepath',
  traceroute: 'traceroute',
  dig: 'dnsutils',
  nslookup: 'dnsutils',
  host: 'dnsutils',
};

/**
 * Programs that can be installed and still not work in the sandbox: ICMP needs a raw socket (no
 * capability survives the sandbox) or the kernel's unprivileged ICMP sockets. Each is tried once
 * against loopback.
 */
const SELF_TESTS: Readonly<Record<string, { args: string[]; fix: string }>> = {
  ping: {
    args: ['-n', '-c', '1', '-W', '2', '127.0.0.1'],
    fix: "it cannot send ICMP from the sandbox: allow the sandbox user's group in the kernel's unprivileged ICMP sockets on the executor host (sysctl net.ipv4.ping_group_range)",
  },
};

const firstLine = (text: string): string =>
  text
    .split('\n')
    .find((l) => l.trim())
    ?.trim()
    .slice(0, 200) ?? '';

/**
 * Checks each allowed program: on the sandbox's PATH, and for ICMP, able to work there. What it
 * finds decides which tools the catalog offers (a tool whose program no executor can run is hidden
 * with the reason), instead of a step failing later with ENOENT.
 */
export const checkLocalPrograms = async (
  sandbox: Sandbox,
  programs: readonly string[],
): Promise<Record<string, ProgramCheck>> => {
  const status = sandbox.status();
  const out: Record<string, ProgramCheck> = {};
  for (const program of [...new Set(programs)].sort()) {
    if (!status.ok) {
      out[program] = { ok: false, reason: `the executor's sandbox cannot run commands: ${status.error ?? 'unknown'}` };
      continue;
    }
    let path: string;
    try {
      path = sandbox.resolve(program);
    } catch {
      const pkg = DEBIAN_PACKAGES[program];
      out[program] = {
        ok: false,
        reason: `${program} is not installed on the executor${pkg ? ` (Debian: apt-get install ${pkg})` : ''}`,
      };
      continue;
    }
    const test = SELF_TESTS[program];
    if (!test) {
      out[program] = { ok: true };
      continue;
    }
    try {
      const outcome = await sandbox.run({
        program: path,
        args: test.args,
        network: true,
        timeoutMs: 10_000,
        captureCapBytes: 4_096,
      });
      out[program] =
        outcome.exitCode === 0
          ? { ok: true }
          : {
              ok: false,
              reason: `${program} is installed but ${test.fix}; it said: ${firstLine(outcome.stderr.text()) || `exit ${outcome.exitCode}`}`,
            };
    } catch (err) {
      out[program] = { ok: false, reason: `${program} could not be tried: ${(err as Error).message}` };
    }
  }
  return out;
};

/** Rows older than this are of executors gone: the orchestrator ignores them, the next report deletes them. */
export const PROGRAM_REPORT_TTL_SECONDS = 900;

/** Says the executor still runs (its pool's liveness, docs/executor-pools.md); false when its row is gone. */
export const reportPresence = async (pool: pg.Pool, executorId: string): Promise<boolean> =>
  ((await pool.query('UPDATE executor_programs SET seen_at = now() WHERE executor_id = $1', [executorId])).rowCount ??
    0) > 0;

/** Records what this executor can run, for the orchestrator's catalog (executor_programs). */
export const reportLocalPrograms = async (
  pool: pg.Pool,
  report: {
    executorId: string;
    taskQueue: string;
    programs: Record<string, ProgramCheck>;
    /** The executor pool it serves, and for a named pool the tenants it serves it for. */
    pool: string;
    tenantIds: readonly string[];
  },
): Promise<void> => {
  await pool.query(
    `INSERT INTO executor_programs (executor_id, task_queue, programs, pool, tenant_ids, reported_at, seen_at)
     VALUES ($1, $2, $3, $4, $5, now(), now())
     ON CONFLICT (executor_id) DO UPDATE SET task_queue = EXCLUDED.task_queue, programs = EXCLUDED.programs,
       pool = EXCLUDED.pool, tenant_ids = EXCLUDED.tenant_ids, reported_at = now(), seen_at = now()`,
    [report.executorId, report.taskQueue, JSON.stringify(report.programs), report.pool, report.tenantIds],
  );
  await pool.query(`DELETE FROM executor_programs WHERE reported_at < now() - make_interval(secs => $1)`, [
    PROGRAM_REPORT_TTL_SECONDS * 4,
  ]);
};
