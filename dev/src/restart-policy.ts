export interface RestartPolicyOptions {
  /** The wait before the first restart after a stable run. */
  initialDelayMs: number;
  /** The wait doubles with each quick crash in a row, up to this. */
  maxDelayMs: number;
  /** A run this long counts as stable: the next crash starts the backoff afresh. */
  stableAfterMs: number;
  /** Quick crashes in a row (runs shorter than `stableAfterMs`) after which the service is given up. */
  maxQuickCrashes: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicyOptions = {
  initialDelayMs: 1_000,
  maxDelayMs: 30_000,
  stableAfterMs: 60_000,
  maxQuickCrashes: 5,
};

export type RestartDecision =
  | { action: 'restart'; delayMs: number; quickCrashes: number; ranMs: number }
  | { action: 'give-up'; quickCrashes: number; ranMs: number };

/**
 * When to restart a crashed service: exponential backoff from `initialDelayMs`, capped, reset by a
 * stable run; a service that keeps crashing soon after it starts is given up. The clock is injected
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

  /** The service exited unasked: restart after a delay, or give up. */
  crashed(): RestartDecision {
    const ranMs = this.startedAt === undefined ? 0 : this.now() - this.startedAt;
    if (ranMs >= this.options.stableAfterMs) {
      this.quickCrashes = 0;
      return { action: 'restart', delayMs: this.options.initialDelayMs, quickCrashes: 0, ranMs };
    }
    this.quickCrashes++;
    if (this.quickCrashes >= this.options.maxQuickCrashes)
      return { action: 'give-up', quickCrashes: this.quickCrashes, ranMs };
    const delayMs = Math.min(this.options.maxDelayMs, this.options.initialDelayMs * 2 ** (this.quickCrashes - 1));
    return { action: 'restart', delayMs, quickCrashes: this.quickCrashes, ranMs };
  }
}
