export interface RestartPolicyOptions {
  /** The wait before the first restart after a stable run. */
  initialDelayMs: number;
  /** The wait doubles with each quick crash in a row, up to this. */
  maxDelayMs: number;
  /** A run this long counts as stable: the next crash starts the backoff afresh. */
  stableAfterMs: number;
  /**
   * Quick crashes in a row (runs shorter than `stableAfterMs`) that make a crash loop: it is said
   * once, and the service is restarted at the cap until it stays up. It is never given up: only
   * Ctrl-C stops the stack.
   */
  crashLoopAfter: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicyOptions = {
  initialDelayMs: 1_000,
  maxDelayMs: 30_000,
  stableAfterMs: 60_000,
  crashLoopAfter: 5,
};

export interface RestartDecision {
  action: 'restart';
  delayMs: number;
  quickCrashes: number;
  ranMs: number;
  /** It keeps crashing soon after it starts: waits the cap each time. */
  crashLoop: boolean;
}

/**
 * When to restart a crashed service: exponential backoff from `initialDelayMs`, capped, reset by a
 * stable run; a service that keeps crashing soon after it starts is in a crash loop, restarted at the
 * cap, never given up. The clock is injected
 * so its timing can be tested without waiting.
 */
export class RestartPolicy {
  private startedAt: number | undefined;
  private quickCrashes = 0;

  constructor(
    private readonly options: RestartPolicyOptions = DEFAULT_RESTART_POLICY,
    private readonly now: () => number = Date.now,
  ) {}

  /** The service (re)started now. */
  started(): void {
    this.startedAt = this.now();
  }

  /** The service exited unasked: when to restart it. */
  crashed(): RestartDecision {
    const ranMs = this.startedAt === undefined ? 0 : this.now() - this.startedAt;
    if (ranMs >= this.options.stableAfterMs) {
      this.quickCrashes = 0;
      return { action: 'restart', delayMs: this.options.initialDelayMs, quickCrashes: 0, ranMs, crashLoop: false };
    }
    this.quickCrashes++;
    const crashLoop = this.quickCrashes >= this.options.crashLoopAfter;
    const delayMs = crashLoop
      ? this.options.maxDelayMs
      : Math.min(this.options.maxDelayMs, this.options.initialDelayMs * 2 ** Math.min(30, this.quickCrashes - 1));
    return { action: 'restart', delayMs, quickCrashes: this.quickCrashes, ranMs, crashLoop };
  }
}
