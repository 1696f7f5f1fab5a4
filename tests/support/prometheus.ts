import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { freePort } from './free-port.js';

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
  if (!existsSync(PROMETHEUS_BIN))
    throw new Error(`${PROMETHEUS_BIN} is missing: run scripts/setup.sh --test (apt-get install prometheus)`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opsc-prometheus-'));
  const port = await freePort();
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
  writeFileSync(path.join(dir, 'prometheus.yml'), `${config}\n`, { mode: 0o600 });
  const logFile = path.join(inject('logDir'), `prometheus-${label}.log`);
  const child = spawn(
    PROMETHEUS_BIN,
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=info',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const log = (chunk: Buffer) => appendFileSync(logFile, chunk);
  child.stdout.on('data', log);
  child.stderr.on('data', log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus did not start (see ${logFile})`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
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
