import { readFileSync } from 'node:fs';

/** Resident memory of a process in bytes (VmRSS of /proc/<pid>/status), or null once it is gone. */
export const rssOf = (pid: number): number | null => {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
};

/** What a process held before a job (its baseline) and at most while the job ran. */
export interface RssPeak {
  baselineBytes: number;
  peakBytes: number;
}

/**
 * Samples a process' resident memory every `everyMs` from now until `stop()`: its baseline (the
 * first sample, before the job) and its peak. Sampling reads one /proc file: no load worth naming.
 */
export const trackRss = (pid: number | undefined, everyMs = 100): { stop(): RssPeak | null } => {
  if (pid === undefined) return { stop: () => null };
  const baseline = rssOf(pid);
  let peak = baseline ?? 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, rssOf(pid) ?? 0);
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, rssOf(pid) ?? 0);
      return baseline === null ? null : { baselineBytes: baseline, peakBytes: peak };
    },
  };
};

/** "per concurrent target session": what the peak added over the baseline, shared by the sessions held at once. */
export const perSessionBytes = (rss: RssPeak, sessions: number): number =>
  Math.max(0, rss.peakBytes - rss.baselineBytes) / Math.max(1, sessions);

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

/** One line: baseline, peak and the memory per concurrent target session against the 2 MB goal. */
export const describeRss = (rss: RssPeak | null, sessions: number): string => {
  if (!rss) return 'executor memory: not measured (no executor process)';
  const each = perSessionBytes(rss, sessions);
  return `executor memory: ${mb(rss.baselineBytes)} MB before the job, peak ${mb(rss.peakBytes)} MB; ${(each / 1024 / 1024).toFixed(2)} MB per concurrent target session (${sessions} at once; goal under 2 MB: ${each < 2 * 1024 * 1024 ? 'met' : 'NOT met'})`;
};
