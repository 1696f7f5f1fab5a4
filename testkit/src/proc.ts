import { readdir, readFile } from 'node:fs/promises';
import { sleep } from './run.js';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** The kernel's process name (at most 15 characters). */
  comm: string;
  /** R, S, Z, ...; a zombie has ended. */
  state: string;
}

// comm may hold spaces and parentheses, so it is cut at the first '(' and the last ')'.
const parseStat = (text: string): ProcessInfo => {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const [state = '', ppid = '0'] = text.slice(close + 2).split(' ');
  return { pid: Number(text.slice(0, open - 1)), ppid: Number(ppid), comm: text.slice(open + 1, close), state };
};

export const readProcess = async (pid: number): Promise<ProcessInfo | undefined> => {
  try {
    return parseStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
};

/** Every process of the machine (the harness lives in the initial PID namespace). */
export const listProcesses = async (): Promise<ProcessInfo[]> => {
  const pids = (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry)).map(Number);
  const infos = await Promise.all(pids.map(readProcess));
  return infos.filter((info): info is ProcessInfo => info !== undefined && info.state !== 'Z');
};

export const childrenOf = (processes: readonly ProcessInfo[], pid: number): ProcessInfo[] =>
  processes.filter((p) => p.ppid === pid);

export const descendantsOf = (processes: readonly ProcessInfo[], pid: number): ProcessInfo[] => {
  const found: ProcessInfo[] = [];
  const queue = [pid];
  for (let parent = queue.shift(); parent !== undefined; parent = queue.shift()) {
    for (const child of childrenOf(processes, parent)) {
      found.push(child);
      queue.push(child.pid);
    }
  }
  return found;
};

/** Waits until a process has ended (gone or a zombie); false on timeout. */
export const waitUntilGone = async (pid: number, timeoutMs: number): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = await readProcess(pid);
    if (!info || info.state === 'Z') return true;
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
};
