/** Collects a stream's bytes up to a cap and remembers whether anything was dropped. */
export class CappedBuffer {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  private seen = 0;

  constructor(private readonly capBytes: number) {}

  push(chunk: Buffer): void {
    this.seen += chunk.length;
    const room = this.capBytes - this.kept;
    if (room <= 0) return;
    const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
    this.chunks.push(part);
    this.kept += part.length;
  }

  get totalBytes(): number {
    return this.seen;
  }

  get truncated(): boolean {
    return this.seen > this.kept;
  }

  /** The first `maxBytes` kept bytes as text; PostgreSQL text cannot hold NUL, so NULs become U+FFFD. */
  text(maxBytes = this.capBytes): string {
    return Buffer.concat(this.chunks).subarray(0, maxBytes).toString('utf8').replaceAll('\0', '\uFFFD');
  }
}
