import { readdirSync, readFileSync } from 'node:fs';

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

/**
 * CPU seconds between two samples, largest first, every label. A label may lose what one of its
 * processes used before the first sample when a parent of another label reaps it: only the sum is
 * exact, so total them all and print `shownCpu`'s.
 */
export const cpuBetween = (before: Map<string, number>, after: Map<string, number>): [string, number][] =>
  [...new Set([...before.keys(), ...after.keys()])]
    .map((label): [string, number] => [label, (after.get(label) ?? 0) - (before.get(label) ?? 0)])
    .sort((a, b) => b[1] - a[1]);

/** The labels worth printing: at least 0.05 s. */
export const shownCpu = (cpu: readonly (readonly [string, number])[]): (readonly [string, number])[] =>
  cpu.filter(([, s]) => s >= 0.05);

/**
 * The machine's busy CPU seconds so far (user, nice, system, irq, softirq; all cores), the time a
 * hypervisor gave to others (steal, apart), and the cores /proc/stat counts. In a container /proc/stat
 * is the host's: these are the whole host's figures.
 */
export const machineBusy = (): { seconds: number; steal: number; cores: number } => {
  const lines = readFileSync('/proc/stat', 'utf8').split('\n');
  // user nice system idle iowait irq softirq steal
  const cpu = (lines[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const busy = (cpu[0] ?? 0) + (cpu[1] ?? 0) + (cpu[2] ?? 0) + (cpu[5] ?? 0) + (cpu[6] ?? 0);
  return { seconds: busy / HZ, steal: (cpu[7] ?? 0) / HZ, cores: lines.filter((l) => /^cpu\d+ /.test(l)).length };
};

export interface CpuReading {
  /** Per label, every label (see cpuBetween). */
  cpu: [string, number][];
  machine: { busySeconds: number; stealSeconds: number; cores: number };
}

/** Starts counting the CPU of the named processes, this process' descendants and the whole machine; `stop` reads it. */
export const startCpuMeter = (named: () => Record<string, number | undefined>): { stop: () => CpuReading } => {
  const before = sampleCpu(named());
  const machineBefore = machineBusy();
  return {
    stop: () => {
      const cpu = cpuBetween(before, sampleCpu(named()));
      const after = machineBusy();
      return {
        cpu,
        machine: {
          busySeconds: after.seconds - machineBefore.seconds,
          stealSeconds: after.steal - machineBefore.steal,
          cores: after.cores,
        },
      };
    },
  };
};
