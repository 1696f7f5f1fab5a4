import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@opsc/dev';
import {
  ALERTS_FILE,
  dashboardExpressions,
  dataPanels,
  exposedFamilies,
  metricNamesIn,
  observabilityMetricNames,
  readDashboard,
  ruleExpressions,
} from '../support/observability-names.js';

const PROMETHEUS_DIR = path.join(REPO_ROOT, 'observability', 'prometheus');
const ALERTS_TEST_FILE = path.join(PROMETHEUS_DIR, 'alerts.test.yml');

/** Debian's promtool (scripts/setup.sh --test installs it); its exit status and everything it said. */
const promtool = (...args: string[]) => {
  const run = spawnSync('promtool', args, { encoding: 'utf8', timeout: 60_000 });
  if (run.error) throw run.error;
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
};

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const alertRules = (): AlertRule[] =>
  (parse(readFileSync(ALERTS_FILE, 'utf8')) as { groups: { rules: AlertRule[] }[] }).groups.flatMap((g) => g.rules);

interface RuleTests {
  rule_files: string[];
  tests: { name: string; alert_rule_test: { alertname: string; exp_alerts?: unknown[] }[] }[];
}

describe('Prometheus alert rules (observability/prometheus/alerts.yml)', () => {
  it('pass promtool check rules', () => {
    const { status, output } = promtool('check', 'rules', ALERTS_FILE);
    expect(output).toContain(`SUCCESS: ${alertRules().length} rules found`);
    expect(status).toBe(0);
  });

  it('pass their promtool unit tests, which fire and hold back every alert', () => {
    const tests = parse(readFileSync(ALERTS_TEST_FILE, 'utf8')) as RuleTests;
    expect(tests.rule_files).toEqual(['alerts.yml']);
    const cases = tests.tests.flatMap((t) => t.alert_rule_test);
    for (const { alert } of alertRules()) {
      const mine = cases.filter((c) => c.alertname === alert);
      expect(
        mine.some((c) => (c.exp_alerts ?? []).length > 0),
        `${alert} fires in a test`,
      ).toBe(true);
      expect(
        mine.some((c) => (c.exp_alerts ?? []).length === 0),
        `${alert} stays quiet in a test`,
      ).toBe(true);
    }
    const { status, output } = promtool('test', 'rules', ALERTS_TEST_FILE);
    expect(output).toContain('SUCCESS');
    expect(status).toBe(0);
  });

  it('give every alert a severity, a summary, a description and a runbook section in docs/observability.md', () => {
    const docs = readFileSync(path.join(REPO_ROOT, 'docs', 'observability.md'), 'utf8');
    const anchors = [...docs.matchAll(/^#{2,4} (.+)$/gm)].map((m) => m[1]!.trim().toLowerCase().replace(/\s+/g, '-'));
    const names = alertRules().map((r) => r.alert);
    expect(new Set(names).size).toBe(names.length);
    for (const rule of alertRules()) {
      expect(rule.alert).toMatch(/^Opsc[A-Z][A-Za-z]+$/);
      expect(['critical', 'warning', 'info'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary?.length ?? 0, rule.alert).toBeGreaterThan(10);
      expect(rule.annotations?.description?.length ?? 0, rule.alert).toBeGreaterThan(30);
      expect(rule.annotations?.runbook_url).toBe(`docs/observability.md#${rule.alert.toLowerCase()}`);
      expect(anchors, `docs/observability.md has a section ${rule.alert}`).toContain(rule.alert.toLowerCase());
    }
    // The list, by name.
    expect(names).toEqual(
      expect.arrayContaining([
        'OpscActivityScheduleToStartHigh',
        'OpscWorkerSlotsExhausted',
        'OpscExecutorPoolQuiet',
        'OpscExecutorDown',
        'OpscJobFailureRateHigh',
        'OpscApprovalWaitingTooLong',
        'OpscUndoActionsFailed',
      ]),
    );
  });
});

describe('Prometheus configuration of the compose profile (observability/prometheus/prometheus.yml)', () => {
  it('passes promtool check config, rule files included', () => {
    const { status, output } = promtool('check', 'config', path.join(PROMETHEUS_DIR, 'prometheus.yml'));
    expect(output).toContain('is valid prometheus config file syntax');
    expect(output).toContain('SUCCESS: 1 rule files found');
    expect(status).toBe(0);
  });

  it('defines every scrape job the rules name', () => {
    const config = parse(readFileSync(path.join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8')) as {
      scrape_configs: { job_name: string }[];
    };
    const jobs = config.scrape_configs.map((j) => j.job_name);
    const named = ruleExpressions().flatMap((e) =>
      [...e.matchAll(/\bjob\s*=~?\s*"([^"]+)"/g)].flatMap((m) => m[1]!.split('|')),
    );
    expect(named.length).toBeGreaterThan(0);
    expect([...new Set(named)].filter((j) => !jobs.includes(j))).toEqual([]);
  });
});

describe('Grafana dashboard (observability/grafana/dashboards/opsconductor.json)', () => {
  const dashboard = readDashboard();

  it('is a dashboard of current Grafana that picks its Prometheus through a variable', () => {
    expect(dashboard.uid).toBe('opsconductor');
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    expect(dashboard.templating?.list).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }),
      ]),
    );
    expect(dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title)).toEqual([
      'Jobs & approvals',
      'API',
      'Planner',
      'Executors',
      'Temporal SDK',
    ]);
  });

  it('gives every panel the data source variable and at least one query', () => {
    const panels = dataPanels(dashboard);
    expect(panels.length).toBeGreaterThanOrEqual(20);
    for (const panel of panels) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(panel.targets?.length ?? 0, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        expect(target.expr?.trim().length ?? 0, panel.title).toBeGreaterThan(0);
        expect((target as { datasource?: unknown }).datasource, panel.title).toEqual(panel.datasource);
      }
    }
  });

  it('lays its panels out on the grid without overlap, each with an id of its own', () => {
    type Grid = { x: number; y: number; w: number; h: number };
    const all = dashboard.panels as unknown as { id: number; title: string; gridPos: Grid }[];
    expect(new Set(all.map((p) => p.id)).size).toBe(all.length);
    for (const p of all) expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
    const overlap = (a: Grid, b: Grid) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
    const clashes = all.flatMap((a, i) =>
      all
        .slice(i + 1)
        .filter((b) => overlap(a.gridPos, b.gridPos))
        .map((b) => `${a.title} / ${b.title}`),
    );
    expect(clashes).toEqual([]);
  });

  it('queries in valid PromQL (each checked by promtool as a recording rule)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'opsc-dashboard-promql-'));
    try {
      // Grafana's interval variables become a duration Prometheus reads.
      const rules = dashboardExpressions(dashboard).map((expr, i) => ({
        record: `opsc:dashboard_query:${i}`,
        expr: expr.replace(/\$__(rate_interval|interval|range)/g, '5m'),
      }));
      const file = path.join(dir, 'dashboard-queries.yml');
      writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules }] }));
      const { status, output } = promtool('check', 'rules', file);
      expect(output).toContain(`SUCCESS: ${rules.length} rules found`);
      expect(status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the metric names the rules and the dashboard use (tests/support/observability-names.ts)', () => {
  it('reads metric families out of PromQL: no functions, labels, keywords, durations or variables', () => {
    expect(
      metricNamesIn(
        'histogram_quantile(0.95, sum by (task_queue, le) (rate(temporal_activity_schedule_to_start_latency_bucket{le!="+Inf"}[$__rate_interval])))',
      ),
    ).toEqual(['temporal_activity_schedule_to_start_latency']);
    expect(
      metricNamesIn(
        'sum(increase(a_total{status="failed"}[30m])) / ignoring(x) group_left(y) sum(b_count offset 5m) > 0.2 and on (job) absent(up{job="e"} == 1) unless c:recorded',
      ),
    ).toEqual(['a_total', 'b', 'c:recorded']);
    expect(metricNamesIn('sum(rate(x_sum[5m])) / sum(rate(x_count[5m])) > 4 * 3600 or vector(0)')).toEqual(['x']);
  });

  it("lists the families of both files, the annotations' queries included", () => {
    const names = observabilityMetricNames();
    expect(names).toEqual(
      expect.arrayContaining([
        'opsc_approvals_waiting',
        'opsc_executor_pools_quiet',
        'opsc_api_request_duration_seconds',
        'opsc_executor_command_duration_seconds',
        'temporal_worker_task_slots_available',
        'temporal_activity_schedule_to_start_latency',
        'temporal_request_failure',
      ]),
    );
    for (const name of names) expect(name).toMatch(/^(opsc|temporal)_[a-z0-9_]+[a-z0-9]$/);
    expect(names.filter((n) => /_(bucket|sum|count)$/.test(n))).toEqual([]);
  });

  it('reads the families of a text exposition, histograms and counters alike', () => {
    const text = [
      '# HELP opsc_jobs_finished_total Jobs',
      '# TYPE opsc_jobs_finished_total counter',
      'opsc_jobs_finished_total{status="failed"} 2',
      'temporal_request_failure{operation="X"} 1',
      'temporal_activity_schedule_to_start_latency_bucket{le="0.1"} 2',
      'temporal_activity_schedule_to_start_latency_sum 0.1',
      '',
    ].join('\n');
    expect([...exposedFamilies(text)].sort()).toEqual([
      'opsc_jobs_finished_total',
      'temporal_activity_schedule_to_start_latency',
      'temporal_request_failure',
    ]);
  });
});
