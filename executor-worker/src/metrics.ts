import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

export interface ExecutorMetrics {
  registry: Registry;
  interceptor: ActivityInterceptorsFactory;
}

interface OutputLineCounts {
  written: number;
  dropped: number;
  queued: number;
}

/** What keeps the executor's bookkeeping off the critical path while PostgreSQL is away. */
interface OutageParts {
  outbox: { stats(): { pending: number; pendingBytes: number; saved: number; dropped: number; outputDropped: number } };
  outageWait: { stats(): { waiting: number; waited: number; remembered: number } };
  lookups: { size(): number };
}

const outcomeOf = (result: unknown): string => {
  const r = result as { kind?: string; exitCode?: number | null; status?: number };
  if (r?.kind === 'command') return r.exitCode === 0 ? 'ok' : 'nonzero_exit';
  if (r?.kind === 'http') return r.status !== undefined && r.status < 400 ? 'ok' : 'http_error';
  return 'ok';
};

/** Prometheus metrics fed by an activity interceptor, so every execution method is counted alike. */
export const createExecutorMetrics = (
  sshPool?: { stats(): { connections: number; handshakesInFlight: number } },
  winrmPool?: { stats(): { idleConnections: number; activeCommands: number } },
  outputLines?: { stats(): OutputLineCounts },
  outage?: OutageParts,
): ExecutorMetrics => {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'opsc_executor_' });
  // The parts count; each scrape adds what they counted since the last one.
  const total = (name: string, help: string, read: () => number) => {
    let seen = 0;
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const now = read();
        this.inc(now - seen);
        seen = now;
      },
    });
  };
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  if (outputLines) {
    total(
      'opsc_executor_output_lines_written_total',
      'Output lines written to output_lines for live logs',
      () => outputLines.stats().written,
    );
    total(
      'opsc_executor_output_lines_dropped_total',
      'Output lines not streamed: over the per-attempt cap, over the queue bound, or refused by PostgreSQL',
      () => outputLines.stats().dropped,
    );
    gauge(
      'opsc_executor_output_lines_queued',
      'Output lines waiting to be written to PostgreSQL',
      () => outputLines.stats().queued,
    );
  }
  if (outage) {
    const { outbox, outageWait, lookups } = outage;
    gauge(
      'opsc_executor_result_outbox_pending',
      'Step results kept on the executor until PostgreSQL is reachable',
      () => outbox.stats().pending,
    );
    gauge(
      'opsc_executor_result_outbox_bytes',
      'Bytes of the step results kept on the executor',
      () => outbox.stats().pendingBytes,
    );
    total(
      'opsc_executor_result_outbox_saved_total',
      'Kept step results saved once PostgreSQL was back',
      () => outbox.stats().saved,
    );
    total(
      'opsc_executor_result_outbox_dropped_total',
      'Step results lost: over EXECUTOR_RESULT_OUTBOX_MAX_RECORDS, refused by PostgreSQL, or unsaved at shutdown',
      () => outbox.stats().dropped,
    );
    total(
      'opsc_executor_result_outbox_output_dropped_total',
      'Kept step results whose output was dropped to stay within EXECUTOR_RESULT_OUTBOX_MAX_BYTES',
      () => outbox.stats().outputDropped,
    );
    gauge(
      'opsc_executor_database_waits',
      'Activities waiting for PostgreSQL before their action starts (job gate, target lookups)',
      () => outageWait.stats().waiting,
    );
    total('opsc_executor_database_waits_total', 'Reads that waited for PostgreSQL', () => outageWait.stats().waited);
    total(
      'opsc_executor_lookups_remembered_total',
      'Reads answered from what the executor remembered (the job gate within its grace, target lookups) because PostgreSQL was unreachable',
      () => outageWait.stats().remembered,
    );
    gauge('opsc_executor_lookup_cache_entries', 'Target lookups remembered for a database outage', () =>
      lookups.size(),
    );
  }
  if (sshPool) {
    new Gauge({
      name: 'opsc_executor_ssh_connections',
      help: 'Pooled SSH connections (open or being opened)',
      registers: [registry],
      collect() {
        this.set(sshPool.stats().connections);
      },
    });
    new Gauge({
      name: 'opsc_executor_ssh_handshakes_in_flight',
      help: 'SSH handshakes in progress, bounded by SSH_MAX_HANDSHAKES',
      registers: [registry],
      collect() {
        this.set(sshPool.stats().handshakesInFlight);
      },
    });
  }
  if (winrmPool) {
    new Gauge({
      name: 'opsc_executor_winrm_commands_running',
      help: 'WinRM commands running (each holds a shell on its target)',
      registers: [registry],
      collect() {
        this.set(winrmPool.stats().activeCommands);
      },
    });
    new Gauge({
      name: 'opsc_executor_winrm_idle_connections',
      help: 'Authenticated WinRM connections kept for reuse',
      registers: [registry],
      collect() {
        this.set(winrmPool.stats().idleConnections);
      },
    });
  }
  const executed = new Counter({
    name: 'opsc_executor_commands_total',
    help: 'Execution activities finished, by activity and outcome',
    labelNames: ['activity', 'outcome'] as const,
    registers: [registry],
  });
  const failures = new Counter({
    name: 'opsc_executor_failures_total',
    help: 'Execution activities that raised an error, by activity and error type',
    labelNames: ['activity', 'error_type'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'opsc_executor_command_duration_seconds',
    help: 'Wall time of execution activities',
    labelNames: ['activity'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900],
    registers: [registry],
  });
  const interceptor: ActivityInterceptorsFactory = (ctx) => ({
    inbound: {
      async execute(input, next) {
        const activity = ctx.info.activityType;
        const stop = duration.startTimer({ activity });
        try {
          const result = await next(input);
          executed.inc({ activity, outcome: outcomeOf(result) });
          return result;
        } catch (err) {
          const type = (err as { type?: string }).type ?? (err as Error).name ?? 'Error';
          executed.inc({ activity, outcome: 'error' });
          failures.inc({ activity, error_type: type });
          throw err;
        } finally {
          stop();
        }
      },
    },
  });
  return { registry, interceptor };
};
