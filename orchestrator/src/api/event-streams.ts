import { ErrorType } from '@opsc/contracts';
import { ApiFailure } from './errors.js';
import { JobFeed, type FeedCounters, type FeedDeps, type FeedListener } from './job-feed.js';

export interface EventStreamLimits {
  /** Streams one user may hold open at once. */
  perUser: number;
  /** Streams the process serves at once. */
  total: number;
}

/** What `GET /api/health` shows of the live streams. */
export interface EventStreamStats extends FeedCounters {
  /** Streams open now. */
  open: number;
  /** Jobs with a running subscription (one line poller and one progress feed each). */
  jobs: number;
}

/**
 * The process' live job event streams: how many each user holds (each stream is a connection and
 * a listener; 200 of them once starved every tenant's job reads), and one shared `JobFeed` per
 * watched job.
 */
export class EventStreams {
  private readonly feeds = new Map<string, JobFeed>();
  private readonly byUser = new Map<string, number>();
  private open = 0;
  private readonly counters: FeedCounters = { lineReads: 0, progressQueries: 0, progressPushes: 0, progressSent: 0 };

  constructor(
    private readonly deps: FeedDeps,
    private readonly limits: EventStreamLimits,
  ) {}

  /** Takes a stream slot for `userId`, or refuses with 429; the returned function gives it back (once). */
  acquire(userId: string): () => void {
    const mine = this.byUser.get(userId) ?? 0;
    if (mine >= this.limits.perUser) {
      throw new ApiFailure(
        ErrorType.RateLimited,
        `you have ${this.limits.perUser} live event streams open, as many as one user may; close one (another tab on a job) and try again`,
      );
    }
    if (this.open >= this.limits.total) {
      throw new ApiFailure(
        ErrorType.RateLimited,
        `the server is serving ${this.limits.total} live event streams, as many as it takes; try again shortly`,
      );
    }
    this.byUser.set(userId, mine + 1);
    this.open += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open -= 1;
      const left = (this.byUser.get(userId) ?? 1) - 1;
      if (left > 0) this.byUser.set(userId, left);
      else this.byUser.delete(userId);
    };
  }

  /** Adds a listener to the job's shared feed (starting one if none runs); the returned function removes it. */
  subscribe(jobId: string, listener: FeedListener): () => void {
    let feed = this.feeds.get(jobId);
    if (!feed) {
      const created: JobFeed = new JobFeed(this.deps, this.counters, jobId, () => {
        if (this.feeds.get(jobId) === created) this.feeds.delete(jobId);
      });
      this.feeds.set(jobId, created);
      feed = created;
    }
    feed.join(listener);
    const joined = feed;
    return () => joined.leave(listener);
  }

  /**
   * A job's progress as its workflow pushed it from this process' worker (at the end of an
   * activation); passed to the job's feed when one runs here, else dropped. Returns at once.
   */
  pushed(jobId: string, json: string): void {
    this.feeds.get(jobId)?.pushed(json);
  }

  /** The job's progress changed, and its workflow holds the snapshot back until its next push. */
  held(jobId: string): void {
    this.feeds.get(jobId)?.held();
  }

  stats(): EventStreamStats {
    return { open: this.open, jobs: this.feeds.size, ...this.counters };
  }
}
