import { describe, expect, it } from 'vitest';
import { BUILTIN_TOOLS_DIR, loadCatalog } from '../catalog/index.js';
import { loadCorpus } from './corpus.js';
import { failureLines, formatReport } from './report.js';
import { runEval, summarize } from './run-eval.js';

describe('the built-in planner on the evaluation corpus', () => {
  it('scores at least 0.95 (pass = 1, partial = 0.5)', async () => {
    const [catalog, corpus] = await Promise.all([loadCatalog([BUILTIN_TOOLS_DIR]), loadCorpus()]);
    const results = await runEval(corpus, { catalog });
    const summary = summarize(results);
    expect(results.every((r) => r.planner === 'built-in')).toBe(true);
    expect(
      summary.overall.score,
      `${formatReport(summary, results)}\n\ncases that did not pass:\n${failureLines(results).join('\n')}`,
    ).toBeGreaterThanOrEqual(0.95);
  });
});
