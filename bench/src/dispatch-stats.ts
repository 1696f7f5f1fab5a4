import type { HistoryStats } from './rollout-history.js';

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
      `  CPU while it ran: ${total.toFixed(1)} s, ${per(total)} ms per target-step (${cpu.map(([label, s]) => `${label} ${s.toFixed(1)} s = ${per(s)} ms`).join(', ')})`,
    );
  }
  return lines;
};
