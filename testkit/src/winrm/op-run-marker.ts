import { errorRecordLines } from './clixml.js';
import { isControlFlow, type Op } from './op-support.js';
import { ScriptExit, TerminatingError } from './ps-context.js';
import type { WinHost } from './win-host.js';
import { WinIoError } from './win-files.js';
import { joinWin, pathKey } from './win-paths.js';

/**
 * The run marker envelope of a changing operation (activities' run-marker-envelope.ts), step by
 * step as its PowerShell runs: the marker is a file on the host (`<runs>\<job>\<step>\<target>.json`),
 * so a test can read it, seed one, or age one; so is the lease in its lock file.
 */

const RETENTION_DAYS = 7;
const LOCK_POLL_MS = 500;

/** Lock files held open (shared for reading only) by running processes, per host: path key -> the owner's pid. */
const heldLocks = new WeakMap<WinHost, Map<string, number>>();

/** What the owner writes into the lock file: Unix milliseconds, as the envelope writes them. */
interface Lease {
  pid: number;
  started: number;
  deadline: number;
  attempt: number;
}

const readLease = async (op: Op, lockPath: string): Promise<Lease | null> => {
  try {
    return JSON.parse((await op.ctx.host.files.read(lockPath))?.toString('utf8') ?? '') as Lease;
  } catch {
    return null;
  }
};

/**
 * The lease: `[System.IO.File]::Open(lock, OpenOrCreate, ReadWrite, Read)`, retried every 500 ms
 * while another process holds it. Meanwhile the holder's lease is read: one past its deadline whose
 * process is still the same (id and start time) is stopped, which closes its file. Taken, the lease
 * names this process and its deadline.
 */
const lock = async (op: Op, lockPath: string): Promise<() => void> => {
  const { host, io } = op.ctx;
  const held = heldLocks.get(host) ?? new Map<string, number>();
  heldLocks.set(host, held);
  const key = pathKey(lockPath);
  while (held.has(key)) {
    const owner = await readLease(op, lockPath);
    if (owner && typeof owner.pid === 'number' && owner.deadline < Date.now()) {
      const p = host.process(owner.pid);
      if (p?.started && p.started.getTime() === owner.started) {
        io.errorLine(`opsconductor: attempt ${owner.attempt} (process ${owner.pid}) holds the run marker past its lease; stopping it`);
        host.killProcess(owner.pid);
      }
    }
    await io.sleep(LOCK_POLL_MS);
  }
  held.set(key, io.pid);
  const release = () => {
    if (held.get(key) === io.pid) held.delete(key);
  };
  try {
    const lease: Lease = { pid: io.pid, started: io.started.getTime(), deadline: Date.now() + op.int('leaseSeconds') * 1000, attempt: op.int('attempt') };
    const out = await host.files.openForWrite(lockPath);
    try {
      await out.write(JSON.stringify(lease));
    } finally {
      await out.close();
    }
  } catch (err) {
    release();
    if (!(err instanceof WinIoError)) throw err;
    throw new TerminatingError(
      errorRecordLines({ source: 'Open', message: `Exception calling "Open" with "4" argument(s): "${err.message}"`, category: 'NotSpecified: (:) [], MethodInvocationException', errorId: 'UnauthorizedAccessException' }),
    );
  }
  return release;
};

interface Recorded {
  exitCode: number;
  at: string;
  attempt: number;
  facts: Record<string, string>;
}

/** Removes files, then empty folders, last written more than a week ago; never fails the step. */
const prune = async (op: Op, runs: string): Promise<void> => {
  const { files } = op.ctx.host;
  const cutoff = Date.now() - RETENTION_DAYS * 86_400_000;
  const entries = await files.list(runs).catch(() => []);
  for (const e of entries) if (!e.directory && e.modified.getTime() < cutoff) await files.remove(e.path).catch(() => undefined);
  const dirs = entries.filter((e) => e.directory && e.modified.getTime() < cutoff).sort((a, b) => b.path.length - a.path.length);
  for (const d of dirs) if ((await files.list(d.path)).length === 0) await files.removeEmptyDirectory(d.path).catch(() => undefined);
};

/** Runs `perform` (the operation's body) at most once per job, step and target, as the envelope does. */
export const runOnce = async (op: Op, perform: () => Promise<never>): Promise<never> => {
  const { files } = op.ctx.host;
  const runs = op.str('runs');
  const dir = joinWin(joinWin(runs, op.str('runJob')), op.str('runStep'));
  const target = op.str('runTarget');
  const marker = joinWin(dir, `${target}.json`);
  try {
    await files.createDirectory(dir);
  } catch (err) {
    if (isControlFlow(err)) throw err;
    op.stop(70, `opsconductor: cannot write a run marker under ${dir}: ${(err as Error).message}; a change that a retry could repeat is not made`);
  }
  const release = await lock(op, joinWin(dir, `.${target}.lock`));
  try {
    const existing = await files.read(marker);
    if (existing) {
      const done = JSON.parse(existing.toString('utf8')) as Recorded;
      if (op.strOrNull('staged')) await files.remove(op.str('staged')).catch(() => undefined);
      for (const [key, value] of Object.entries(done.facts)) op.fact(key, value);
      op.out(`already done by attempt ${done.attempt} at ${done.at}; not run again (run marker ${marker})`);
      return op.exit(done.exitCode);
    }
    let exitCode: number;
    let failure: TerminatingError | undefined;
    try {
      await perform();
      exitCode = 0;
    } catch (err) {
      // A terminated process (Killed) writes nothing: the operation did not finish.
      if (err instanceof ScriptExit) exitCode = err.code;
      else if (err instanceof TerminatingError) {
        exitCode = 1;
        failure = err;
      } else throw err;
    }
    const record: Recorded = { exitCode, at: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), attempt: op.int('attempt'), facts: Object.fromEntries(op.facts) };
    const tmp = `${marker}.${op.nonce}.tmp`;
    try {
      const out = await files.openForWrite(tmp);
      await out.write(JSON.stringify(record));
      await out.close();
      await files.move(tmp, marker);
    } catch (err) {
      if (!(err instanceof WinIoError)) throw err;
      op.ctx.io.errorLine(`opsconductor: could not write the run marker ${marker}; a retry would run this again: ${err.message}`);
    }
    await prune(op, runs);
    if (failure) throw failure;
    return op.exit(exitCode);
  } finally {
    release();
  }
};
