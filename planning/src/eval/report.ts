import type { CaseResult, EvalSummary } from './run-eval.js';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** The table operators read: per category, overall, latency; with `verbose`, each non-pass case and why. */
export const formatReport = (summary: EvalSummary, results: readonly CaseResult[], verbose = false): string => {
  const width = Math.max(8, ...summary.categories.map((c) => c.category.length));
  const row = (name: string, t: { cases: number; pass: number; partial: number; fail: number; score: number }) =>
    `${name.padEnd(width)}  ${[t.cases, t.pass, t.partial, t.fail].map((n) => String(n).padStart(8)).join('')}  ${pct(t.score).padStart(6)}`;
  const lines = [
    `${'category'.padEnd(width)}  ${['cases', 'pass', 'partial', 'fail'].map((h) => h.padStart(8)).join('')}  ${'score'.padStart(6)}`,
    ...summary.categories.map((c) => row(c.category, c)),
    '-'.repeat(width + 42),
    row('overall', summary.overall),
    '',
    `overall score: ${summary.overall.score.toFixed(3)} (pass = 1, partial = 0.5)`,
    `latency per case: p50 ${summary.latency.p50.toFixed(1)} ms, p95 ${summary.latency.p95.toFixed(1)} ms, max ${summary.latency.max.toFixed(1)} ms`,
  ];
  if (verbose) {
    const misses = results.filter((r) => r.verdict !== 'pass');
    if (misses.length) lines.push('', 'cases that did not pass:');
    for (const r of misses) {
      lines.push('', `${r.verdict.toUpperCase()} ${r.category}/${r.id} (${r.planner}, ${r.ms.toFixed(0)} ms)`);
      lines.push(`  request: ${r.request}`);
      for (const reason of r.reasons) lines.push(`  - ${reason}`);
    }
  }
  return lines.join('\n');
};

/** One line per case that did not pass: `<verdict> <category>/<id>: <first reason>`. */
export const failureLines = (results: readonly CaseResult[]): string[] =>
  results.filter((r) => r.verdict !== 'pass').map((r) => `${r.verdict} ${r.category}/${r.id}: ${r.reasons.join('; ')}`);
