/** Counts down permits; waiters are served in order. */
export class Semaphore {
  private readonly queue: (() => void)[] = [];
  private permits: number;
  constructor(private readonly max: number) {
    this.permits = max;
  }
  get inUse(): number {
    return this.max - this.permits;
  }
  async acquire(): Promise<() => void> {
    if (this.permits > 0) this.permits -= 1;
    else await new Promise<void>((resolve) => this.queue.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.queue.shift();
      if (next) next();
      else this.permits += 1;
    };
  }
}
