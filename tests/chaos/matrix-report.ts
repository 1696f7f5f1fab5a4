import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MATRIX_JSONL, MATRIX_MD, matrixTable, type MatrixRow } from './matrix.js';

/**
 * The chaos project's second global set-up: starts an empty matrix and, once every file has run,
 * writes the table (test-results/chaos-matrix.md) and prints it, whatever the reporter.
 */
export default function setup(): () => void {
  mkdirSync(path.dirname(MATRIX_JSONL), { recursive: true });
  rmSync(MATRIX_JSONL, { force: true });
  return () => {
    const rows = existsSync(MATRIX_JSONL)
      ? readFileSync(MATRIX_JSONL, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as MatrixRow)
      : [];
    const table = `# Chaos matrix (${new Date().toISOString()})\n\n${matrixTable(rows)}`;
    writeFileSync(MATRIX_MD, table);
    process.stdout.write(`\n${table}\n`);
  };
}
