import { isIPv6 } from 'node:net';

/**
 * The key a request's address is limited under: an IPv4 address as it is, an IPv6 address by its
 * /64 (one host commonly holds a whole /64, so single addresses would cost an attacker nothing).
 */
export const sourceKey = (ip: string | undefined): string => {
  if (!ip) return 'unknown';
  if (ip.startsWith('::ffff:') && ip.includes('.')) return ip.slice('::ffff:'.length);
  if (!isIPv6(ip)) return ip;
  const [head = '', tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
};

export interface SourceLimiterOptions {
  /** Failures a source may have in a window (the bucket's size). */
  maxFailures: number;
  /** The time in which a spent budget fills up again. */
  windowSeconds: number;
  /** Sources remembered at once; past it the least recently seen is forgotten. */
  maxSources?: number;
  now?: () => number;
}

export type Take = { ok: true } | { ok: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Failed sign-ins per source, as a token bucket: an attempt takes a token before any work is done
 * and gives it back when it succeeds (or was never tried), so only failures spend a source's budget.
 * In memory and per process, bounded by `maxSources`.
 */
export class SourceLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;
  private readonly maxSources: number;
  private readonly now: () => number;

  constructor(private readonly options: SourceLimiterOptions) {
    this.perMs = options.maxFailures / (options.windowSeconds * 1000);
    this.maxSources = options.maxSources ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  take(source: string): Take {
    const bucket = this.current(source);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.perMs / 1000)) };
  }

  refund(source: string): void {
    const bucket = this.current(source);
    bucket.tokens = Math.min(this.options.maxFailures, bucket.tokens + 1);
    // A full bucket says nothing a fresh one would not.
    if (bucket.tokens >= this.options.maxFailures) this.buckets.delete(source);
  }

  /** The source's bucket, refilled to now and moved to the most recently seen end. */
  private current(source: string): Bucket {
    const now = this.now();
    const old = this.buckets.get(source);
    const bucket = old
      ? { tokens: Math.min(this.options.maxFailures, old.tokens + (now - old.at) * this.perMs), at: now }
      : { tokens: this.options.maxFailures, at: now };
    this.buckets.delete(source);
    this.buckets.set(source, bucket);
    if (this.buckets.size > this.maxSources) this.buckets.delete(this.buckets.keys().next().value!);
    return bucket;
  }
}
