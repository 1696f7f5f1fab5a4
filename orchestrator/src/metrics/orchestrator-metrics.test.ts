import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { PlanProposal } from '@opsc/contracts';
import { createOrchestratorMetrics } from './orchestrator-metrics.js';

// The planning counts need no database: only the scrape-time gauges read PostgreSQL.
const metrics = () => createOrchestratorMetrics({ pool: {} as pg.Pool });

const proposal = (fields: Record<string, unknown>) => ({ ...fields }) as unknown as PlanProposal;

const planningCounts = async (m: ReturnType<typeof metrics>) => {
  const values = (await m.registry.getSingleMetric('opsc_planner_duration_seconds')!.get()).values;
  return values
    .filter((v) => (v as { metricName?: string }).metricName === 'opsc_planner_duration_seconds_count')
    .map((v) => ({ ...v.labels, count: v.value }))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
};

describe('planner metrics', () => {
  it('name which planner answered (built-in, LLM, or the built-in one as a fallback) and the outcome', async () => {
    const m = metrics();
    await m.timePlanning(async () => proposal({ planner: 'built-in', status: 'ready' }));
    await m.timePlanning(async () => proposal({ planner: 'llm', status: 'needs-input' }));
    await m.timePlanning(async () => proposal({ planner: 'built-in', status: 'ready', fallbackReason: 'timeout' }));
    await expect(m.timePlanning(() => Promise.reject(new Error('model down')))).rejects.toThrow('model down');
    expect(await planningCounts(m)).toEqual([
      { planner: 'builtin', outcome: 'ready', count: 1 },
      { planner: 'fallback', outcome: 'ready', count: 1 },
      { planner: 'llm', outcome: 'needs-input', count: 1 },
      { planner: 'none', outcome: 'error', count: 1 },
    ]);
  });

  it('keep a status it does not know out of the labels (bounded: "other")', async () => {
    const m = metrics();
    await m.timePlanning(async () => proposal({ planner: 'llm', status: 'rm -rf / <user text>' }));
    expect(await planningCounts(m)).toEqual([{ planner: 'llm', outcome: 'other', count: 1 }]);
  });
});
