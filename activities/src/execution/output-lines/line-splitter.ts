/** Bytes of one streamed line; the rest of a longer line is not streamed. */
export const MAX_LINE_BYTES = 8_192;

const NEWLINE = 0x0a;
const CR = 0x0d;

/** Where to cut `bytes` at most `max` long without splitting a UTF-8 sequence. */
const charBoundary = (bytes: Buffer, max: number): number => {
  let at = Math.min(max, bytes.length);
  // 10xxxxxx is a continuation byte: step back to the start of its character.
  while (at > 0 && at < bytes.length && (bytes[at]! & 0xc0) === 0x80) at--;
  return at;
};

/** PostgreSQL text cannot hold NUL. */
const decode = (bytes: Buffer): string => bytes.toString('utf8').replaceAll('\0', '\uFFFD');

/**
 * Cuts one output stream into lines as its chunks arrive. A chunk may end anywhere, inside a line
 * or inside a multi-byte character: bytes are kept until their line ends, and only whole lines are
 * decoded (a UTF-8 newline byte is never part of another character). `\r\n` ends a line like `\n`.
 * A line longer than `maxLineBytes` is cut there with a note, and the rest of it is skipped, so
 * memory stays bounded whatever the target prints.
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Inside the rest of a line that was already cut. */
  private skipping = false;

  constructor(private readonly maxLineBytes = MAX_LINE_BYTES) {}

  /** The lines this chunk completes. */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
      this.take(chunk.subarray(start, nl), true, lines);
      start = nl + 1;
    }
    if (start < chunk.length) this.take(chunk.subarray(start), false, lines);
    return lines;
  }

  /** The last line, when the stream ended without a newline. */
  end(): string[] {
    // While skipping nothing is pending: the cut part was already emitted.
    this.skipping = false;
    const lines: string[] = [];
    if (this.pendingBytes > 0) this.emit(lines);
    return lines;
  }

  private take(part: Buffer, ended: boolean, lines: string[]): void {
    if (this.skipping) {
      if (ended) this.skipping = false;
      return;
    }
    if (part.length > 0) {
      this.pending.push(part);
      this.pendingBytes += part.length;
    }
    if (ended) this.emit(lines);
    // Not yet ended and already too long (a CR may still be followed by its LF: allow one more byte).
    else if (this.pendingBytes > this.maxLineBytes + 1) {
      this.emit(lines);
      this.skipping = true;
    }
  }

  private emit(lines: string[]): void {
    let bytes = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    if (bytes.length > 0 && bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, -1);
    if (bytes.length <= this.maxLineBytes) {
      lines.push(decode(bytes));
      return;
    }
    lines.push(
      `${decode(bytes.subarray(0, charBoundary(bytes, this.maxLineBytes)))} … [line cut at ${this.maxLineBytes} bytes]`,
    );
  }
}
