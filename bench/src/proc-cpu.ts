import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on Linux). */
const HZ = 100;

interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime, and cutime + cstime: what its ended children used, once it has reaped them. */
  ticks: number;
}

const readStat = (pid: number): ProcStat | null => {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = s.lastIndexOf(')');
    // After "pid (comm) " the fields run from state (field 3): ppid is field 4, utime 14, stime 15,
    // cutime 16, cstime 17. The fleet's commands (a shell, `uname`, ...) live a few milliseconds: what
    // they use is counted in their sshd's children's time, or it would not be counted at all.
    const f = s.slice(close + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    return { pid, ppid: Number(f[1]), comm: s.slice(s.indexOf('(') + 1, close), ticks };
  } catch {
    return null;
  }
};

/**
 * CPU seconds used so far by the named processes (by PID) and by this process' other descendants
 * grouped by command name (postgres, sshd, ...), each with the children it has reaped. A process
 * that ended and was not reaped by one of these is not counted: `machineBusy` is the whole.
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

/** The machine's busy CPU seconds so far (user, nice, system, irq, softirq, steal; all cores) and its cores. */
export const machineBusy = (): { seconds: number; cores: number } => {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  const busy = (cpu[0] ?? 0) + (cpu[1] ?? 0) + (cpu[2] ?? 0) + (cpu[5] ?? 0) + (cpu[6] ?? 0) + (cpu[7] ?? 0);
  return { seconds: busy / HZ, cores: availableParallelism() };
};
