import { parseTransferProgress, type TransferProgress } from '@opsc/contracts';
import type { OutputLine } from '@opsc/contracts/api';

export interface Transfer extends TransferProgress {
  line: OutputLine;
}

/**
 * The latest transfer progress (stream `progress`) per target, step, attempt and re-run: a copy
 * reports its bytes a few times a second, and only the latest report of each is worth a row.
 */
export const latestTransfers = (lines: readonly OutputLine[]): Transfer[] => {
  const latest = new Map<string, Transfer>();
  for (const line of lines) {
    if (line.stream !== 'progress') continue;
    const p = parseTransferProgress(line.line);
    if (p)
      latest.set(`${line.target}\u0000${line.stepId}\u0000${line.attempt}\u0000${line.rerun ?? 0}`, { ...p, line });
  }
  return [...latest.values()];
};
