import type { Request, Response } from 'express';
import { ErrorType } from '@opsc/contracts';
import type { ProgressUnavailable, StreamEnd } from '@opsc/contracts/api';
import { principalOf } from './auth.js';
import type { ApiDeps } from './deps.js';
import { ApiFailure } from './errors.js';
import type { FeedLine, FeedListener } from './job-feed.js';
import type { JobRow } from '../jobs/job-store.js';

const KEEPALIVE_MS = 15_000;
/**
 * Bytes a stream may have waiting for a slow client. Past this it is hung up (the client resumes
 * from its Last-Event-ID), so one stalled reader cannot make the shared feed hold its lines forever.
 */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/** One SSE response as a listener of its job's shared feed. */
class SseListener implements FeedListener {
  private lastWrite = Date.now();
  private closed = false;
  readonly done: Promise<void>;
  private finish!: () => void;

  constructor(
    private readonly res: Response,
    public cursor: bigint,
  ) {
    this.done = new Promise((resolve) => (this.finish = resolve));
    res.on('close', () => this.close());
    // The client may have gone while the job was looked up: its 'close' has fired already.
    if (res.destroyed || !res.socket || res.socket.destroyed) this.close();
  }

  private write(text: string): void {
    if (this.closed) return;
    this.res.write(text);
    this.lastWrite = Date.now();
    // Destroyed, not ended: ending would wait for the stalled client to read what is buffered.
    if (this.res.writableLength > MAX_BUFFERED_BYTES) this.close(true);
  }

  line(line: FeedLine): void {
    this.write(`id: ${line.seq}\nevent: log\ndata: ${line.json}\n\n`);
    this.cursor = line.seq;
  }

  progress(json: string): void {
    this.write(`event: progress\ndata: ${json}\n\n`);
  }

  progressUnavailable(message: string): void {
    this.write(`event: progress-unavailable\ndata: ${JSON.stringify({ message } satisfies ProgressUnavailable)}\n\n`);
  }

  end(status: string | null): void {
    this.write(`event: end\ndata: ${JSON.stringify({ status } satisfies StreamEnd)}\n\n`);
    this.close();
  }

  hangUp(): void {
    this.close();
  }

  tick(now: number): void {
    if (now - this.lastWrite >= KEEPALIVE_MS) this.write(': keepalive\n\n');
  }

  private close(destroy = false): void {
    if (this.closed) return;
    this.closed = true;
    if (destroy) this.res.destroy();
    else this.res.end();
    this.finish();
  }
}

/**
 * `GET /api/jobs/:id/events`: Server-Sent Events. `log` events carry output lines as the executor
 * stored them, each with its sequence number as the event id, so a reconnecting client (the browser
 * sends `Last-Event-ID`) misses none and gets none twice. `progress` events carry the workflow's
 * progress snapshot whenever it changes. `end` closes a finished job's stream. Streams are capped
 * per user and per process (429 past either), and all streams of a job share one subscription.
 */
export const jobEventsHandler = async (deps: ApiDeps, job: JobRow, req: Request, res: Response): Promise<void> => {
  const resumeFrom =
    req.get('last-event-id') ?? (typeof req.query.lastEventId === 'string' ? req.query.lastEventId : '0');
  if (!/^\d{1,18}$/.test(resumeFrom))
    throw new ApiFailure(ErrorType.ValidationFailed, 'Last-Event-ID must be the id of an event this stream sent', [
      { path: 'Last-Event-ID', message: 'must be a number' },
    ]);
  let release: () => void;
  try {
    release = deps.eventStreams.acquire(principalOf(res).userId);
  } catch (err) {
    res.set('retry-after', '10');
    throw err;
  }
  try {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // Proxies (nginx) must pass events through as they come.
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    const listener = new SseListener(res, BigInt(resumeFrom));
    const leave = deps.eventStreams.subscribe(job.id, listener);
    await listener.done;
    leave();
  } finally {
    release();
  }
};
