import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on Linux). */
const HZ = 100;

interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime, in ticks. */
  ticks: number;
}

const readStat = (pid: number): ProcStat | null => {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = s.lastIndexOf(')');
    // After "pid (comm) " the fields run from state (field 3): ppid is field 4, utime 14, stime 15.
    const f = s.slice(close + 2).split(' ');
    return { pid, ppid: Number(f[1]), comm: s.slice(s.indexOf('(') + 1, close), ticks: Number(f[11]) + Number(f[12]) };
  } catch {
    return null;
  }
};

/**
 * CPU seconds used so far by the named processes (by PID) and by this process' other descendants
 * grouped by command name (postgres, sshd, ...). Processes that already ended are not counted.
 */
export const sampleCpu = (named: Record<string, number | undefined>): Map<string, number> => {
  const all = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => readStat(Number(d)))
    .filter((s): s is ProcStat => s !== null);
  const byPid = new Map(all.map((s) => [s.pid, s]));
  const descends = (s: ProcStat) => {
    for (let p = s.ppid, hops = 0; p > 1 && hops < 64; p = byPid.get(p)?.ppid ?? 0, hops += 1)
      if (p === process.pid) return true;
    return false;
  };
  const labelOf = new Map(
    Object.entries(named).flatMap(([label, pid]) => (pid === undefined ? [] : [[pid, label] as const])),
  );
  const out = new Map<string, number>();
  for (const s of all) {
    const label = labelOf.get(s.pid) ?? (descends(s) ? s.comm : undefined);
    if (label !== undefined) out.set(label, (out.get(label) ?? 0) + s.ticks / HZ);
  }
  return out;
};

/** CPU seconds between two samples, largest first, for the labels that used at least 0.05 s. */
export const cpuBetween = (before: Map<string, number>, after: Map<string, number>): [string, number][] =>
  [...after.entries()]
    .map(([label, s]): [string, number] => [label, s - (before.get(label) ?? 0)])
    .filter(([, s]) => s >= 0.05)
    .sort((a, b) => b[1] - a[1]);
