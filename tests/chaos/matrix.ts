import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '@opsc/dev';

/** One run of the fault matrix: what was done, how long the job took to end after it, and whether every host checked out. */
export interface MatrixRow {
  workload: string;
  hosts: number;
  fault: string;
  /** Seconds from the fault's injection to the job's terminal state; null when it never got there. */
  recoverySeconds: number | null;
  jobStatus: string;
  expected: string;
  problems: string[];
  /** What the failed steps said (distinct messages, the first few): the observed symptom. */
  symptoms: string[];
}

export const MATRIX_JSONL = path.join(REPO_ROOT, 'test-results', 'chaos-matrix.jsonl');
export const MATRIX_MD = path.join(REPO_ROOT, 'test-results', 'chaos-matrix.md');

export const recordRow = (row: MatrixRow): void => {
  mkdirSync(path.dirname(MATRIX_JSONL), { recursive: true });
  appendFileSync(MATRIX_JSONL, `${JSON.stringify(row)}\n`);
};

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

export const matrixTable = (rows: readonly MatrixRow[]): string => {
  const lines = [
    '| workload | hosts | fault | recovery (s) | job | expected | verdict | failed steps said |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => {
      const verdict =
        r.problems.length === 0
          ? 'pass'
          : `FAIL: ${r.problems.slice(0, 3).join('; ')}${r.problems.length > 3 ? `; (+${r.problems.length - 3} more)` : ''}`;
      return `| ${r.workload} | ${r.hosts} | ${cell(r.fault)} | ${r.recoverySeconds ?? 'stuck'} | ${r.jobStatus} | ${r.expected} | ${cell(verdict)} | ${cell(r.symptoms.join('; ') || '-')} |`;
    }),
  ];
  return `${lines.join('\n')}\n`;
};
