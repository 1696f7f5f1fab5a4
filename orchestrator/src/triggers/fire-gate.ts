import { Unavailable } from '../errors.js';

/**
 * Bounds the deliveries fired at once in this process. A fire holds a pooled connection (its
 * trigger's advisory lock) while the template run takes more from the same pool: with as many
 * fires as connections, every fire waits for a connection no one gives back. So a few fire at
 * once, a bounded queue waits its turn (for at most `waitMs`), and past that the sender is told
 * to retry (503, which Alertmanager and webhook senders retry).
 */
export class FireGate {
  private running = 0;
  private readonly queue: (() => void)[] = [];

  constructor(private readonly limits: { concurrent: number; queued: number; waitMs: number }) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.limits.concurrent) await this.waitTurn();
    else this.running += 1;
    try {
      return await work();
    } finally {
      const next = this.queue.shift();
      // The slot passes to the next waiter as it is; otherwise it is freed.
      if (next) next();
      else this.running -= 1;
    }
  }

  private waitTurn(): Promise<void> {
    if (this.queue.length >= this.limits.queued)
      return Promise.reject(new Unavailable('too many deliveries are being handled; retry in a few seconds'));
    return new Promise<void>((resolve, reject) => {
      const turn = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const at = this.queue.indexOf(turn);
        if (at >= 0) this.queue.splice(at, 1);
        reject(new Unavailable('too many deliveries are being handled; retry in a few seconds'));
      }, this.limits.waitMs);
      this.queue.push(turn);
    });
  }
}
