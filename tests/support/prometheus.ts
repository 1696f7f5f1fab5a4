import path from 'node:path';
import { startPromDaemon } from './prom-daemon.js';

/** Debian's prometheus (`scripts/setup.sh --test` installs it). */
export const PROMETHEUS_BIN = '/usr/bin/prometheus';

/** One instant-vector sample of `/api/v1/query`. */
export interface PromSample {
  metric: Record<string, string>;
  value: number;
}

export interface PromTarget {
  job: string;
  health: 'up' | 'down' | 'unknown';
  scrapeUrl: string;
  lastError: string;
}

export interface RunningPrometheus {
  url: string;
  /** `/api/v1/query` at now: the samples of an instant vector. */
  query(expr: string): Promise<PromSample[]>;
  /** `/api/v1/targets`: the active targets and their health. */
  targets(): Promise<PromTarget[]>;
  stop(): Promise<void>;
}

/** A scrape job: its name and the full `/metrics` URL (loopback). */
export interface ScrapeJob {
  job: string;
  url: string;
}

const yamlString = (s: string): string => JSON.stringify(s);

const apiGet = async <T>(url: string): Promise<T> => {
  const res = await fetch(url);
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`prometheus: ${body.error ?? res.status}`);
  return body.data;
};

/**
 * A real Prometheus on a free loopback port scraping the given endpoints every second, its storage in
 * a temporary folder removed at stop; stopped by its PID.
 */
export const startPrometheus = async (label: string, jobs: ScrapeJob[]): Promise<RunningPrometheus> => {
  const config = [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    '  evaluation_interval: 1s',
    'scrape_configs:',
    ...jobs.flatMap((j) => {
      const u = new URL(j.url);
      return [
        `  - job_name: ${yamlString(j.job)}`,
        `    metrics_path: ${yamlString(u.pathname)}`,
        '    static_configs:',
        `      - targets: [${yamlString(u.host)}]`,
      ];
    }),
  ].join('\n');
  const { url, stop } = await startPromDaemon({
    bin: PROMETHEUS_BIN,
    debianPackage: 'prometheus',
    kind: 'prometheus',
    label,
    configFile: 'prometheus.yml',
    config,
    args: (dir, configPath, listen) => [
      `--config.file=${configPath}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=${listen}`,
      '--log.level=info',
    ],
    readyTimeoutMs: 60_000,
    stopTimeoutMs: 10_000,
  });
  return {
    url,
    async query(expr) {
      const data = await apiGet<{
        resultType: string;
        result: { metric: Record<string, string>; value: [number, string] }[];
      }>(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      if (data.resultType !== 'vector') throw new Error(`prometheus: ${expr} is a ${data.resultType}, not a vector`);
      return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
    async targets() {
      const data = await apiGet<{
        activeTargets: {
          labels: Record<string, string>;
          health: PromTarget['health'];
          scrapeUrl: string;
          lastError: string;
        }[];
      }>(`${url}/api/v1/targets?state=active`);
      return data.activeTargets.map((t) => ({
        job: t.labels.job ?? '',
        health: t.health,
        scrapeUrl: t.scrapeUrl,
        lastError: t.lastError,
      }));
    },
    stop,
  };
};
