import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { TaskQueue } from '@opsc/contracts';

export interface HistoryStats {
  runs: number;
  /** Each run of the job's continue-as-new chain: its events and the size the server reports. */
  perRun: { events: number; serverBytes: number }[];
  events: number;
  /** JSON of the fetched histories. */
  jsonBytes: number;
  /** What the server reports (`historySizeBytes`). */
  serverBytes: number;
  children: number;
  workflowTasks: number;
  /** Executor activities: scheduled to started (as the server recorded them), milliseconds. */
  scheduleToStartMs: number[];
}

type Timestamp = { seconds?: { toString(): string } | number | null; nanos?: number | null } | null | undefined;
const ms = (t: Timestamp) => (t ? Number(String(t.seconds ?? 0)) * 1000 + (t.nanos ?? 0) / 1e6 : NaN);

/** The job's workflow: every run of its continue-as-new chain, and its child workflows, recursively. */
export const historyStats = async (client: Client, workflowId: string, runId?: string): Promise<HistoryStats> => {
  const first = await client.workflow.getHandle(workflowId, runId).describe();
  const stats: HistoryStats = {
    runs: 0,
    perRun: [],
    events: 0,
    jsonBytes: 0,
    serverBytes: 0,
    children: 0,
    workflowTasks: 0,
    scheduleToStartMs: [],
  };
  let run: string | null | undefined = runId ?? (first.raw.workflowExecutionInfo?.firstRunId || first.runId);
  while (run) {
    const handle: WorkflowHandle = client.workflow.getHandle(workflowId, run);
    const [described, history] = await Promise.all([handle.describe(), handle.fetchHistory()]);
    const events = history.events ?? [];
    // With OPSC_BENCH_HISTORY_DIR, each run's history is kept there (to replay it, e.g. under a profiler).
    const keep = process.env.OPSC_BENCH_HISTORY_DIR;
    if (keep) writeFileSync(path.join(keep, `${workflowId}-${run}.json`), JSON.stringify(history));
    stats.runs += 1;
    stats.perRun.push({ events: events.length, serverBytes: described.historySize ?? 0 });
    stats.events += events.length;
    stats.jsonBytes += Buffer.byteLength(JSON.stringify(history));
    stats.serverBytes += described.historySize ?? 0;
    const scheduled = new Map<string, number>();
    for (const e of events) {
      if (e.workflowTaskCompletedEventAttributes) stats.workflowTasks += 1;
      const sched = e.activityTaskScheduledEventAttributes;
      if (sched && sched.taskQueue?.name === TaskQueue.executor) scheduled.set(String(e.eventId), ms(e.eventTime));
      const started = e.activityTaskStartedEventAttributes;
      const at = started && scheduled.get(String(started.scheduledEventId));
      if (at !== undefined && at !== null && at !== 0) stats.scheduleToStartMs.push(ms(e.eventTime) - at);
      const child = e.childWorkflowExecutionStartedEventAttributes?.workflowExecution;
      if (!child?.workflowId) continue;
      const sub = await historyStats(client, child.workflowId, child.runId ?? undefined);
      stats.children += 1 + sub.children;
      stats.events += sub.events;
      stats.jsonBytes += sub.jsonBytes;
      stats.serverBytes += sub.serverBytes;
      stats.workflowTasks += sub.workflowTasks;
      stats.scheduleToStartMs.push(...sub.scheduleToStartMs);
    }
    run = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
  }
  return stats;
};
