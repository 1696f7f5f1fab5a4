import { errorRecordLines } from './clixml.js';
import { isControlFlow, type Op } from './op-support.js';
import { ScriptExit, TerminatingError } from './ps-context.js';
import type { WinHost } from './win-host.js';
import { WinIoError } from './win-files.js';
import { joinWin, pathKey } from './win-paths.js';
import { initializeOpscFolder, NOT_PRIVATE_ADVICE } from './op-private-folder.js';

/** The envelope's exit codes (activities' run-marker-envelope.ts): not private or not writable, and an earlier attempt stopped mid-change. */
const NO_MARKER_FOLDER_EXIT = 70;
const TAKEN_OVER_EXIT = 71;
const TAKEN_OVER_FACT = 'opsc-taken-over';

/**
 * The run marker envelope of a changing operation (activities' run-marker-envelope.ts), step by
 * step as its PowerShell runs: the marker is a file on the host (`<runs>\<job>\<step>\<target>.json`),
 * so a test can read it, seed one, or age one; so is the lease in its lock file.
 */

const RETENTION_DAYS = 7;
const LOCK_POLL_MS = 500;

/** Lock files held open (shared for reading only) by running processes, per host: path key -> the owner's pid. */
const heldLocks = new WeakMap<WinHost, Map<string, number>>();

const locksOf = (host: WinHost): Map<string, number> => {
  const held = heldLocks.get(host) ?? new Map<string, number>();
  heldLocks.set(host, held);
  return held;
};

/** Set-up: process `pid` holds `lockPath` open shared for reading only (as a local user's program can); the answer closes it. */
export const holdLockFile = (host: WinHost, lockPath: string, pid: number): (() => void) => {
  const held = locksOf(host);
  held.set(pathKey(lockPath), pid);
  return () => {
    if (held.get(pathKey(lockPath)) === pid) held.delete(pathKey(lockPath));
  };
};

/** `Stop-Untrusted`: a lock file or marker another account owns is never read, let alone acted on. */
const refuseUntrusted = (op: Op, what: string, winPath: string, owner: string): never =>
  op.stop(
    NO_MARKER_FOLDER_EXIT,
    `opsconductor: the ${what} ${winPath} belongs to ${owner}, not to SYSTEM, Administrators or this account, so it is not trusted; a change that a retry could repeat is not made`,
  );

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
 * while another process holds it. Meanwhile the holder's lease is read (only from a lock file this
 * account, SYSTEM or Administrators own): one past its deadline whose process is still the same (id
 * and start time) is stopped with every process it started, which closes its file, and this
 * attempt then knows it took over. Taken, the lease names this process and its deadline.
 */
const lock = async (op: Op, lockPath: string): Promise<{ release: () => void; tookOver: number | null }> => {
  const { host, io } = op.ctx;
  const held = locksOf(host);
  const key = pathKey(lockPath);
  let tookOver: number | null = null;
  while (held.has(key)) {
    const foreign = host.files.foreignOwner(lockPath);
    if (foreign) refuseUntrusted(op, 'lock file', lockPath, foreign);
    const owner = await readLease(op, lockPath);
    if (owner && typeof owner.pid === 'number' && owner.deadline < Date.now()) {
      const p = host.process(owner.pid);
      if (p?.started && p.started.getTime() === owner.started) {
        io.errorLine(
          `opsconductor: attempt ${owner.attempt} (process ${owner.pid}) holds the run marker past its lease; stopping it and the processes it started`,
        );
        host.killProcess(owner.pid);
        for (const child of host.descendants(owner.pid)) host.killProcess(child.pid);
        tookOver = owner.attempt;
      }
    }
    await io.sleep(LOCK_POLL_MS);
  }
  held.set(key, io.pid);
  const release = () => {
    if (held.get(key) === io.pid) held.delete(key);
  };
  const foreign = host.files.foreignOwner(lockPath);
  if (foreign) {
    release();
    refuseUntrusted(op, 'lock file', lockPath, foreign);
  }
  try {
    const lease: Lease = {
      pid: io.pid,
      started: io.started.getTime(),
      deadline: Date.now() + op.int('leaseSeconds') * 1000,
      attempt: op.int('attempt'),
    };
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
      errorRecordLines({
        source: 'Open',
        message: `Exception calling "Open" with "4" argument(s): "${err.message}"`,
        category: 'NotSpecified: (:) [], MethodInvocationException',
        errorId: 'UnauthorizedAccessException',
      }),
    );
  }
  return { release, tookOver };
};

interface Recorded {
  exitCode: number;
  at: string;
  attempt: number;
  facts: Record<string, string>;
  /** The attempt stopped mid-change after its lease: this one did not run the change again. */
  takenOver?: number;
}

/** `Write-TakenOver`: the fact line the executor looks for, and why on the error stream. */
const writeTakenOver = (op: Op, attempt: number): void => {
  op.ctx.io.line(`@@opsc-${op.nonce} ${TAKEN_OVER_FACT}=${attempt}`);
  op.ctx.io.errorLine(
    `opsconductor: attempt ${attempt} was stopped mid-change after its lease ran out; the host may be half-changed, so the change is not run again`,
  );
};

/** `Save-OpscMarker`: to a temporary name, then moved into place; a marker that cannot be written is said, not fatal. */
const saveMarker = async (op: Op, marker: string, record: Recorded): Promise<void> => {
  const { files } = op.ctx.host;
  const tmp = `${marker}.${op.nonce}.tmp`;
  try {
    const out = await files.openForWrite(tmp);
    await out.write(JSON.stringify(record));
    await out.close();
    await files.move(tmp, marker);
  } catch (err) {
    if (!(err instanceof WinIoError)) throw err;
    op.ctx.io.errorLine(
      `opsconductor: could not write the run marker ${marker}; a retry would run this again: ${err.message}`,
    );
  }
};

const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Removes files, then empty folders, last written more than a week ago; never fails the step. */
const prune = async (op: Op, runs: string): Promise<void> => {
  const { files } = op.ctx.host;
  const cutoff = Date.now() - RETENTION_DAYS * 86_400_000;
  const entries = await files.list(runs).catch(() => []);
  for (const e of entries)
    if (!e.directory && e.modified.getTime() < cutoff) await files.remove(e.path).catch(() => undefined);
  const dirs = entries
    .filter((e) => e.directory && e.modified.getTime() < cutoff)
    .sort((a, b) => b.path.length - a.path.length);
  for (const d of dirs)
    if ((await files.list(d.path)).length === 0) await files.removeEmptyDirectory(d.path).catch(() => undefined);
};

/** Runs `perform` (the operation's body) at most once per job, step and target, as the envelope does. */
export const runOnce = async (op: Op, perform: () => Promise<never>): Promise<never> => {
  const { files } = op.ctx.host;
  const runs = op.str('runs');
  const dir = joinWin(joinWin(runs, op.str('runJob')), op.str('runStep'));
  const target = op.str('runTarget');
  const marker = joinWin(dir, `${target}.json`);
  let why: string | null = null;
  try {
    why = await initializeOpscFolder(files, op.str('root'), runs);
    if (!why) await files.createDirectory(dir);
  } catch (err) {
    if (isControlFlow(err)) throw err;
    op.stop(
      NO_MARKER_FOLDER_EXIT,
      `opsconductor: cannot write a run marker under ${dir}: ${(err as Error).message}; a change that a retry could repeat is not made`,
    );
  }
  if (why)
    op.stop(
      NO_MARKER_FOLDER_EXIT,
      `opsconductor: will not keep run markers in a folder others control: ${why}; ${NOT_PRIVATE_ADVICE}`,
    );
  const { release, tookOver } = await lock(op, joinWin(dir, `.${target}.lock`));
  try {
    const existing = await files.read(marker);
    if (existing) {
      const foreign = files.foreignOwner(marker);
      if (foreign) refuseUntrusted(op, 'run marker', marker, foreign);
      const done = JSON.parse(existing.toString('utf8')) as Recorded;
      if (op.strOrNull('staged')) await files.remove(op.str('staged')).catch(() => undefined);
      for (const [key, value] of Object.entries(done.facts)) op.fact(key, value);
      if (done.takenOver !== undefined) writeTakenOver(op, done.takenOver);
      op.out(`already done by attempt ${done.attempt} at ${done.at}; not run again (run marker ${marker})`);
      return op.exit(done.exitCode);
    }
    if (tookOver !== null) {
      if (op.strOrNull('staged')) await files.remove(op.str('staged')).catch(() => undefined);
      await saveMarker(op, marker, {
        exitCode: TAKEN_OVER_EXIT,
        at: now(),
        attempt: op.int('attempt'),
        facts: {},
        takenOver: tookOver,
      });
      writeTakenOver(op, tookOver);
      return op.exit(TAKEN_OVER_EXIT);
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
    await saveMarker(op, marker, {
      exitCode,
      at: now(),
      attempt: op.int('attempt'),
      facts: Object.fromEntries(op.facts),
    });
    await prune(op, runs);
    if (failure) throw failure;
    return op.exit(exitCode);
  } finally {
    release();
  }
};
