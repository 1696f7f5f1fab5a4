import { transferProgressLine, type TransferProgress } from '@opsc/contracts';
import type { AttemptOutput } from './output-lines/sink.js';

/** The shortest gap between two progress reports of one transfer: at most four a second per target. */
export const TRANSFER_REPORT_EVERY_MS = 250;

/** A long transfer's gap between reports grows to this share of its time so far (1%). */
const TIME_SHARE = 100;

export interface TransferReporter {
  /** Bytes sent so far; reported when the last report is at least the interval old. */
  update(sent: number): void;
  /** All bytes are sent: the final report, once. */
  done(): void;
}

/**
 * Reports a file transfer's bytes to the live output (stream `progress`), throttled: the first
 * report once the interval has passed, then at most one per interval (or per 1% of the time so far,
 * when that is longer), and a final one. The line
 * carries byte counts and the elapsed time only, never a name, a path or the content.
 */
export const transferReporter = (
  lines: Pick<AttemptOutput, 'progress'>,
  direction: TransferProgress['direction'],
  total: number,
  options: { everyMs?: number; now?: () => number } = {},
): TransferReporter => {
  const everyMs = options.everyMs ?? TRANSFER_REPORT_EVERY_MS;
  const now = options.now ?? Date.now;
  const startedAt = now();
  let lastAt = startedAt;
  let finished = false;
  const report = (sent: number, at: number) =>
    lines.progress(
      transferProgressLine({ direction, sent, total, elapsedMs: Math.max(0, Math.round(at - startedAt)) }),
    );
  return {
    update(sent) {
      if (finished || sent >= total) return;
      const at = now();
      // A long transfer reports at most once per 1% of its time so far: a day-long copy writes some
      // hundreds of lines (these pass the attempt's line cap), not 4 a second for the whole day.
      if (at - lastAt < Math.max(everyMs, (lastAt - startedAt) / TIME_SHARE)) return;
      lastAt = at;
      report(sent, at);
    },
    done() {
      if (finished) return;
      finished = true;
      report(total, now());
    },
  };
};
