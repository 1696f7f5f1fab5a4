import type { HistoryStats } from './rollout-history.js';
import { shownCpu } from './proc-cpu.js';

/** The value at quantile q (0..1) of already sorted numbers; 0 when there are none. */
const quantile = (sorted: readonly number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;

/**
 * Dispatch, as the job's history tells it: how long the executor's activities waited between being
 * scheduled and being started (p50, p95, max), how many ran per second of the job's wall time, and the
 * CPU the services used per target-step (each a (step, target) activity).
 */
export const dispatchLines = (
  history: HistoryStats,
  wallMs: number,
  cpu: readonly (readonly [string, number])[],
  targetSteps: number,
  machine?: { busySeconds: number; stealSeconds: number; cores: number },
): string[] => {
  const s2s = [...history.scheduleToStartMs].sort((a, b) => a - b);
  const activities = s2s.length;
  const lines = [
    `  dispatch: ${activities} executor activities, ${(activities / (wallMs / 1000)).toFixed(1)}/s; scheduled to started p50 ${quantile(s2s, 0.5).toFixed(0)} ms, p95 ${quantile(s2s, 0.95).toFixed(0)} ms, max ${quantile(s2s, 1).toFixed(0)} ms; ${history.workflowTasks} workflow tasks`,
  ];
  if (cpu.length) {
    const total = cpu.reduce((sum, [, s]) => sum + s, 0);
    const per = (s: number) => `${((s * 1000) / targetSteps).toFixed(1)}`;
    lines.push(
      `  CPU while it ran: ${total.toFixed(1)} s, ${per(total)} ms per target-step (${shownCpu(cpu)
        .map(([label, s]) => `${label} ${s.toFixed(1)} s = ${per(s)} ms`)
        .join(', ')})`,
    );
    if (machine) lines.push(machineLine(machine, wallMs, total, targetSteps));
  }
  return lines;
};

/**
 * The whole machine over the job: how busy its cores were, and what the list of processes missed
 * (the kernel's own work, processes that ended unreaped, anything else running). A job at ~100% is
 * bound by CPU, and a faster job needs less CPU per target-step; below that it waits on something.
 */
export const machineLine = (
  machine: { busySeconds: number; stealSeconds: number; cores: number },
  wallMs: number,
  listed: number,
  targetSteps: number,
): string => {
  const available = (wallMs / 1000) * machine.cores;
  const busy = machine.busySeconds;
  return `  the machine: ${busy.toFixed(1)} of ${available.toFixed(1)} core-seconds busy (${((busy / available) * 100).toFixed(0)}% of ${machine.cores} cores), ${((busy * 1000) / targetSteps).toFixed(1)} ms per target-step; ${Math.max(0, busy - listed).toFixed(1)} s of it not in the list above${machine.stealSeconds >= 0.5 ? `; ${machine.stealSeconds.toFixed(1)} s stolen by the hypervisor` : ''}`;
};
