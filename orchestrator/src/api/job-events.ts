import type { Request, Response } from 'express';
import { ErrorType, isFinalJobStatus, type JobProgress } from '@opsc/contracts';
import { progressQuery } from '@opsc/contracts/temporal';
import { withTimeout } from '../with-timeout.js';
import type { ApiDeps } from './deps.js';
import { ApiFailure } from './errors.js';
import type { JobRow } from './job-store.js';

/** How often new output lines are looked for: lines reach the browser well within a second. */
const LINE_POLL_MS = 250;
/** How often the job's progress is asked for; a snapshot is sent only when it changed. */
const PROGRESS_EVERY_MS = 1_000;
const KEEPALIVE_MS = 15_000;
const LINES_PER_READ = 500;
const QUERY_TIMEOUT_MS = 3_000;

interface LineRow {
  seq: string;
  step_id: string;
  target_id: string;
  target_name: string;
  attempt: number;
  stream: 'stdout' | 'stderr';
  at: Date;
  line: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `GET /api/jobs/:id/events`: Server-Sent Events. `log` events carry output lines as the executor
 * stored them, each with its sequence number as the event id, so a reconnecting client (the browser
 * sends `Last-Event-ID`) misses none and gets none twice. `progress` events carry the workflow's
 * progress snapshot whenever it changes. `end` closes a finished job's stream.
 */
export const jobEventsHandler = async (deps: ApiDeps, job: JobRow, req: Request, res: Response): Promise<void> => {
  const resumeFrom = req.get('last-event-id') ?? (typeof req.query.lastEventId === 'string' ? req.query.lastEventId : '0');
  if (!/^\d{1,18}$/.test(resumeFrom)) throw new ApiFailure(ErrorType.ValidationFailed, 'Last-Event-ID must be the id of an event this stream sent', [{ path: 'Last-Event-ID', message: 'must be a number' }]);
  let cursor = BigInt(resumeFrom);

  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // Proxies (nginx) must pass events through as they come.
    'x-accel-buffering': 'no',
  });
  res.write('retry: 2000\n\n');
  let closed = false;
  req.on('close', () => {
    closed = true;
  });
  const send = (event: string, data: unknown, id?: string) => {
    res.write(`${id ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    lastWrite = Date.now();
  };

  const handle = deps.client.workflow.getHandle(job.id);
  let lastWrite = Date.now();
  let lastProgress = '';
  let progressAt = 0;
  let finished = false;
  let progressFailing = false;
  /** The job's final status once known (from the query, or the job row when the query fails). */
  let finalStatus: string | null = null;
  /** Asks for the job's progress and sends it when it changed; never throws. */
  const refreshProgress = async (): Promise<void> => {
    try {
      const progress: JobProgress = await withTimeout(handle.query(progressQuery), QUERY_TIMEOUT_MS, 'progress query');
      if (closed) return;
      const json = JSON.stringify(progress);
      if (json !== lastProgress) {
        lastProgress = json;
        res.write(`event: progress\ndata: ${json}\n\n`);
        lastWrite = Date.now();
      }
      progressFailing = false;
      finished = isFinalJobStatus(progress.status);
      if (finished) finalStatus = progress.status;
    } catch (err) {
      if (closed) return;
      // Say so once; keep streaming lines, and keep asking.
      if (!progressFailing) send('progress-unavailable', { message: (err as Error).message });
      progressFailing = true;
      const row = await deps.pool.query<{ status: string }>('SELECT status FROM jobs WHERE id = $1', [job.id]).catch(() => undefined);
      finished = isFinalJobStatus(row?.rows[0]?.status ?? '');
      if (finished) finalStatus = row?.rows[0]?.status ?? null;
    }
  };
  // The progress query runs beside the line reads, never in their way: a busy worker slows the
  // snapshots, not the lines.
  let asking: Promise<void> | null = null;
  try {
    while (!closed) {
      // The job was known to be over before this read began: the read sees every line it printed.
      const overBeforeRead = finished;
      const lines = await deps.pool.query<LineRow>(
        `SELECT seq, step_id, target_id, target_name, attempt, stream, at, line FROM output_lines
          WHERE job_id = $1 AND seq > $2 ORDER BY seq LIMIT ${LINES_PER_READ}`,
        [job.id, cursor.toString()],
      );
      for (const l of lines.rows) {
        send('log', { seq: Number(l.seq), stepId: l.step_id, target: l.target_name, targetId: l.target_id, attempt: l.attempt, stream: l.stream, at: l.at, line: l.line }, l.seq);
        cursor = BigInt(l.seq);
      }
      if (closed) break;
      if (!finished && !asking && Date.now() - progressAt >= PROGRESS_EVERY_MS) {
        progressAt = Date.now();
        asking = refreshProgress().finally(() => {
          asking = null;
        });
      }
      // A finished job's lines are all stored before its status turns final (the executor flushes
      // before a step reports), so a complete read begun after that ends the stream.
      if (overBeforeRead && lines.rows.length < LINES_PER_READ) {
        send('end', { status: finalStatus });
        break;
      }
      if (Date.now() - lastWrite >= KEEPALIVE_MS) {
        res.write(': keepalive\n\n');
        lastWrite = Date.now();
      }
      if (lines.rows.length < LINES_PER_READ) await sleep(LINE_POLL_MS);
    }
  } catch (err) {
    // Headers are gone; the client reconnects with Last-Event-ID and resumes.
    deps.log.warn('event stream broke', { jobId: job.id, error: (err as Error).message });
  }
  closed = true;
  await asking;
  res.end();
};
