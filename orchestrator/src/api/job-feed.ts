import type { Client } from '@temporalio/client';
import type pg from 'pg';
import { isFinalJobStatus, type JobProgress, type TargetRef } from '@opsc/contracts';
import { progressQuery } from '@opsc/contracts/temporal';
import type { OutputLine, Sent } from '@opsc/contracts/api';
import type { Logger } from '@opsc/telemetry';
import { withTimeout } from '../with-timeout.js';
import type { PoolLiveness } from '../jobs/pool-liveness.js';
import { withPoolWaits } from '../jobs/pool-waits.js';

/** How often new output lines are looked for: lines reach the browser well within a second. */
export const LINE_POLL_MS = 250;
/**
 * How often the job's progress is asked for while its workflow pushes none (it runs in another
 * process' worker, or nothing happens in it); a snapshot is sent only when it changed.
 */
export const PROGRESS_EVERY_MS = 1_000;
/** At most one progress event per job this often: a burst of verdicts becomes one event. */
export const PROGRESS_FLOOR_MS = 200;
/** While the workflow pushes its progress, it is asked for only after this long without a push. */
export const PUSH_QUIET_MS = 5_000;
/** A change the workflow held back (`held`) and no push has carried after this long: asked for. */
export const HELD_WAIT_MS = 500;
const LINES_PER_READ = 500;
const QUERY_TIMEOUT_MS = 3_000;
/** How often a running job's row is read for a final status its workflow cannot report. */
const ROW_CHECK_EVERY_MS = 5_000;

/** One stored output line, encoded once for every listener. */
export interface FeedLine {
  seq: bigint;
  /** The `log` event's data. */
  json: string;
}

/** Someone a feed writes to: an SSE response. It keeps its own place in the job's lines. */
export interface FeedListener {
  /** The sequence number of the last line it has been sent (its Last-Event-ID). */
  cursor: bigint;
  line(line: FeedLine): void;
  progress(json: string): void;
  progressUnavailable(message: string): void;
  end(status: string | null): void;
  /** The feed broke (the database went away): the listener hangs up and its client resumes. */
  hangUp(): void;
  /** Called on every poll, so an idle listener can keep its connection open. */
  tick(now: number): void;
}

export interface FeedDeps {
  pool: pg.Pool;
  client: Client;
  log: Logger;
  /** Which executor pools are served: a running target of a quiet pool shows as waiting for it. */
  pools?: PoolLiveness;
}

/** Counts of the work feeds do, for `GET /api/health`: they grow with jobs watched, not with listeners. */
export interface FeedCounters {
  lineReads: number;
  progressQueries: number;
  /** Snapshots the workflows pushed for a watched job (`EventStreams.pushed`). */
  progressPushes: number;
  /** Progress events sent (once per job, whatever the number of its listeners). */
  progressSent: number;
}

interface Member {
  listener: FeedListener;
  /** Caught up: gets every line as the poller reads it. Until then, lines wait in `pending`. */
  live: boolean;
  pending: FeedLine[];
}

interface LineRow {
  seq: string;
  step_id: string;
  target_id: string;
  target_name: string;
  attempt: number;
  rerun: number;
  stream: 'stdout' | 'stderr' | 'progress';
  at: Date;
  line: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A job's live events for every listener in this process: one output_lines poller and one
 * progress loop per job, however many streams watch it. The poller starts at the job's last stored
 * line (never at a cursor a client claims, which could hide lines from everyone else); a listener
 * behind it (a new stream, a reconnect with an older Last-Event-ID) first catches up from
 * PostgreSQL on its own, up to where the poller was when it joined, while the poller's newer lines
 * wait for it; then it is live. Every listener so gets each line after its own cursor exactly once,
 * in order. The feed stops when its last listener leaves, or after it has sent `end`.
 */
export class JobFeed {
  private readonly members = new Map<FeedListener, Member>();
  /** The last line the poller has read; known once `started`. */
  private cursor = 0n;
  private started = false;
  private running = false;
  private lastProgress: string | null = null;
  private unavailable: string | null = null;
  private finished = false;
  private finalStatus: string | null = null;
  private rowCheckedAt = 0;
  /** When the workflow last pushed its progress; the latest push not yet sent; when one was last sent. */
  private pushedAt = 0;
  private pushedJson: string | null = null;
  private pushTimer: NodeJS.Timeout | null = null;
  /** When the workflow last said it holds a change back. */
  private heldAt = 0;
  private sentAt = 0;
  /** When the progress sent last was taken: an older answer (a slow query) never replaces it. */
  private takenAt = 0;
  private ended = false;
  /** The job's tenant and targets with their executor pools, read once when a pool check first needs them. */
  private targets: Promise<{ tenantId: string; targets: TargetRef[] }> | null = null;

  constructor(
    private readonly deps: FeedDeps,
    private readonly counters: FeedCounters,
    readonly jobId: string,
    private readonly onStop: () => void,
  ) {}

  /** Adds a listener; the first one starts the poller. */
  join(listener: FeedListener): void {
    const member: Member = { listener, live: false, pending: [] };
    this.members.set(listener, member);
    if (this.lastProgress) listener.progress(this.lastProgress);
    if (this.unavailable) listener.progressUnavailable(this.unavailable);
    // Before the poller knows where it starts, run() places the listeners that joined.
    if (this.started) this.place(member);
    if (!this.running) {
      this.running = true;
      void this.run();
    }
  }

  leave(listener: FeedListener): void {
    this.members.delete(listener);
  }

  /**
   * The workflow's progress as it pushed it at the end of an activation. Sent at once, or when
   * `PROGRESS_FLOOR_MS` have passed since the last event (the latest push wins); while pushes come,
   * the job's progress is not asked for.
   */
  pushed(json: string): void {
    if (!this.running || this.ended) return;
    this.counters.progressPushes += 1;
    this.pushedAt = Date.now();
    this.pushedJson = json;
    if (this.pushTimer) return;
    this.pushTimer = setTimeout(
      () => {
        this.pushTimer = null;
        const latest = this.pushedJson;
        this.pushedJson = null;
        if (latest) void this.deliver(JSON.parse(latest) as JobProgress, this.pushedAt).catch(() => undefined);
      },
      Math.max(0, this.sentAt + PROGRESS_FLOOR_MS - Date.now()),
    );
  }

  /** The workflow holds a change back until its next push (at most 4 a second); asked for if none comes. */
  held(): void {
    if (this.running && !this.ended) this.heldAt = Date.now();
  }

  /** Live when the listener is level with the poller (or ahead: it skips what it has), else it catches up first. */
  private place(member: Member): void {
    if (member.listener.cursor >= this.cursor) member.live = true;
    else void this.catchUp(member, this.cursor);
  }

  private async read(after: bigint, upTo: bigint | null): Promise<FeedLine[]> {
    this.counters.lineReads += 1;
    const { rows } = await this.deps.pool.query<LineRow>(
      `SELECT seq, step_id, target_id, target_name, attempt, rerun, stream, at, line FROM output_lines
        WHERE job_id = $1 AND seq > $2 AND ($3::bigint IS NULL OR seq <= $3) ORDER BY seq LIMIT ${LINES_PER_READ}`,
      [this.jobId, after.toString(), upTo?.toString() ?? null],
    );
    return rows.map((l) => ({
      seq: BigInt(l.seq),
      json: JSON.stringify({
        seq: Number(l.seq),
        stepId: l.step_id,
        target: l.target_name,
        targetId: l.target_id,
        attempt: l.attempt,
        ...(l.rerun > 0 && { rerun: l.rerun }),
        stream: l.stream,
        at: l.at,
        line: l.line,
      } satisfies Sent<OutputLine>),
    }));
  }

  private send(member: Member, line: FeedLine): void {
    if (line.seq > member.listener.cursor) member.listener.line(line);
  }

  /** Reads what a listener missed, up to where the poller was when it joined, then makes it live. */
  private async catchUp(member: Member, upTo: bigint): Promise<void> {
    try {
      for (;;) {
        const lines = await this.read(member.listener.cursor, upTo);
        if (!this.members.has(member.listener)) return;
        for (const line of lines) this.send(member, line);
        if (lines.length < LINES_PER_READ) break;
      }
    } catch (err) {
      this.deps.log.warn('event stream catch-up failed', { jobId: this.jobId, error: (err as Error).message });
      this.members.delete(member.listener);
      member.listener.hangUp();
      return;
    }
    for (const line of member.pending) this.send(member, line);
    member.pending = [];
    member.live = true;
    if (this.ended) member.listener.end(this.finalStatus);
  }

  private async readTargets(): Promise<{ tenantId: string; targets: TargetRef[] }> {
    // A failed read is asked again on the next refresh.
    const forget = () => {
      this.targets = null;
    };
    const { rows } = await this.deps.pool
      .query<{ tenant_id: string; targets: TargetRef[] }>(
        "SELECT tenant_id, resolved_targets->'targets' AS targets FROM jobs WHERE id = $1",
        [this.jobId],
      )
      .catch((err: unknown) => {
        forget();
        throw err;
      });
    return { tenantId: rows[0]?.tenant_id ?? '', targets: rows[0]?.targets ?? [] };
  }

  /**
   * Passes a progress answer taken at `takenAt` on to every listener when it changed, unless a
   * newer one went out while its pools were looked at; false when it was older.
   */
  private async deliver(answer: JobProgress, takenAt: number): Promise<boolean> {
    const job = this.deps.pools ? await (this.targets ??= this.readTargets()) : null;
    const progress = job ? await withPoolWaits(answer, job.tenantId, job.targets, this.deps.pools) : answer;
    if (takenAt < this.takenAt) return false;
    this.takenAt = takenAt;
    const json = JSON.stringify(progress);
    this.unavailable = null;
    if (json !== this.lastProgress) {
      this.lastProgress = json;
      this.sentAt = Date.now();
      this.counters.progressSent += 1;
      for (const { listener } of this.members.values()) listener.progress(json);
    }
    this.finished = isFinalJobStatus(progress.status);
    if (this.finished) this.finalStatus = progress.status;
    return true;
  }

  /** Asks for the job's progress and passes it on when it changed; never throws. */
  private async refreshProgress(): Promise<void> {
    this.counters.progressQueries += 1;
    const askedAt = Date.now();
    try {
      const answer: JobProgress = await withTimeout(
        this.deps.client.workflow.getHandle(this.jobId).query(progressQuery),
        QUERY_TIMEOUT_MS,
        'progress query',
      );
      if (!(await this.deliver(answer, askedAt)) || this.finished) return;
      // A workflow closed from outside still answers with the state it was in; reconciliation
      // writes the truth to the row, which is read now and then so that the stream ends.
      if (Date.now() - this.rowCheckedAt >= ROW_CHECK_EVERY_MS) {
        this.rowCheckedAt = Date.now();
        const row = await this.deps.pool
          .query<{ status: string }>('SELECT status FROM jobs WHERE id = $1', [this.jobId])
          .catch(() => undefined);
        this.finished = isFinalJobStatus(row?.rows[0]?.status ?? '');
        if (this.finished) this.finalStatus = row?.rows[0]?.status ?? null;
      }
    } catch (err) {
      // Say so once; keep streaming lines, and keep asking. The job row tells whether it is over.
      if (this.unavailable === null) {
        this.unavailable = (err as Error).message;
        for (const { listener } of this.members.values()) listener.progressUnavailable(this.unavailable);
      }
      const row = await this.deps.pool
        .query<{ status: string }>('SELECT status FROM jobs WHERE id = $1', [this.jobId])
        .catch(() => undefined);
      this.finished = isFinalJobStatus(row?.rows[0]?.status ?? '');
      if (this.finished) this.finalStatus = row?.rows[0]?.status ?? null;
    }
  }

  private async run(): Promise<void> {
    let progressAt = 0;
    // The progress query runs beside the line reads, never in their way: a busy worker slows the
    // snapshots, not the lines.
    let asking: Promise<void> | null = null;
    try {
      this.counters.lineReads += 1;
      const last = await this.deps.pool.query<{ seq: string | null }>(
        'SELECT max(seq)::text AS seq FROM output_lines WHERE job_id = $1',
        [this.jobId],
      );
      this.cursor = BigInt(last.rows[0]?.seq ?? '0');
      this.started = true;
      for (const member of this.members.values()) this.place(member);
      while (this.members.size > 0) {
        // The job was known to be over before this read began: the read sees every line it printed.
        const overBeforeRead = this.finished;
        const lines = await this.read(this.cursor, null);
        for (const line of lines) {
          this.cursor = line.seq;
          for (const member of this.members.values()) {
            if (member.live) this.send(member, line);
            else member.pending.push(line);
          }
        }
        if (this.members.size === 0) break;
        const now = Date.now();
        const heldBack = this.heldAt > this.pushedAt && now - this.heldAt >= HELD_WAIT_MS;
        const due =
          (now - progressAt >= PROGRESS_EVERY_MS && now - this.pushedAt >= PUSH_QUIET_MS) ||
          (heldBack && now - progressAt >= HELD_WAIT_MS);
        if (!this.finished && !asking && due) {
          progressAt = Date.now();
          // The answer carries what was held back.
          this.heldAt = 0;
          asking = this.refreshProgress().finally(() => {
            asking = null;
          });
        }
        // A finished job's lines are all stored before its status turns final (the executor flushes
        // before a step reports), so a complete read begun after that ends the stream.
        if (overBeforeRead && lines.length < LINES_PER_READ) {
          this.ended = true;
          for (const member of this.members.values()) if (member.live) member.listener.end(this.finalStatus);
          break;
        }
        for (const { listener } of this.members.values()) listener.tick(Date.now());
        if (lines.length < LINES_PER_READ) await sleep(LINE_POLL_MS);
      }
    } catch (err) {
      // Headers are gone; each client reconnects with Last-Event-ID and resumes.
      this.deps.log.warn('event stream broke', { jobId: this.jobId, error: (err as Error).message });
      for (const { listener } of this.members.values()) listener.hangUp();
      this.members.clear();
    }
    // No await between the last check of `members` and here: a listener that joins after this
    // finds no feed and starts a new one.
    if (this.pushTimer) clearTimeout(this.pushTimer);
    this.pushTimer = null;
    this.running = false;
    this.onStop();
  }
}
