import type pg from 'pg';
import { expect } from 'vitest';
import { parseTransferProgress } from '@opsc/contracts';

export interface ProgressRow {
  line: string;
  at: Date;
}

/** A step's `progress` lines of a job, in the order they were stored. */
export const progressLines = async (pool: pg.Pool, jobId: string, stepId: string): Promise<ProgressRow[]> =>
  (
    await pool.query<ProgressRow>(
      `SELECT line, at FROM output_lines WHERE job_id = $1 AND step_id = $2 AND stream = 'progress' ORDER BY seq`,
      [jobId, stepId],
    )
  ).rows;

/**
 * What an upload of `total` bytes reported: every line is the closed transfer-progress format (byte
 * counts and time, no name, path or content), the bytes sent rise strictly to `total` with at least
 * three reports in between, at most one report per 250 ms before the final one, and at most four a
 * second over the transfer's time (the final report's), plus the final one.
 */
export const expectUploadReports = (rows: ProgressRow[], total: number): void => {
  const reports = rows.map((r) => parseTransferProgress(r.line));
  expect(reports.every((r) => r !== null && r.direction === 'upload' && r.total === total)).toBe(true);
  const sent = reports.map((r) => r!.sent);
  expect(sent).toEqual([...sent].sort((a, b) => a - b));
  expect(new Set(sent).size).toBe(sent.length);
  expect(sent.at(-1)).toBe(total);
  expect(sent.filter((s) => s > 0 && s < total).length).toBeGreaterThanOrEqual(3);
  const times = rows.map((r) => r.at.getTime());
  const gaps = times.slice(1, -1).map((t, i) => t - times[i]!);
  expect(Math.min(...gaps), `gaps ${gaps.join(', ')} ms`).toBeGreaterThanOrEqual(240);
  expect(rows.length).toBeLessThanOrEqual(Math.floor(reports.at(-1)!.elapsedMs / 250) + 2);
};
