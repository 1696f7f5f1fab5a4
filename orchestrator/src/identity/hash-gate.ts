/**
 * A bound on password hashes at once (scrypt: 32 MiB and a thread-pool thread each), overall and per
 * source. Past it a sign-in is refused at once rather than queued: a queue of an attacker's hashes
 * would sit in front of everyone else's sign-in. One source gets at most half the slots, so a flood
 * from one address always leaves room for others.
 */
export class HashGate {
  private total = 0;
  private readonly bySource = new Map<string, number>();
  private readonly perSource: number;

  constructor(private readonly max: number) {
    this.perSource = Math.max(1, Math.floor(max / 2));
  }

  /** A release function when there is room, else undefined. */
  tryEnter(source: string): (() => void) | undefined {
    const mine = this.bySource.get(source) ?? 0;
    if (this.total >= this.max || mine >= this.perSource) return undefined;
    this.total += 1;
    this.bySource.set(source, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total -= 1;
      const left = (this.bySource.get(source) ?? 1) - 1;
      if (left > 0) this.bySource.set(source, left);
      else this.bySource.delete(source);
    };
  }
}
