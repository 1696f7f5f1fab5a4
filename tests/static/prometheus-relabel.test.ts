import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@opsc/dev';
import { freePort } from '../support/free-port.js';

const CONFIG = path.join(REPO_ROOT, 'observability', 'prometheus', 'prometheus.yml');
const cleanups: (() => void)[] = [];
afterAll(() => cleanups.reverse().forEach((c) => c()));

interface ScrapeConfig {
  job_name: string;
  metric_relabel_configs?: unknown[];
}

describe("the compose profile's Prometheus keeps tenant ids out of the SDK's labels", () => {
  it("stores a named pool's task queue as executor.pool.<pool>, with no tenant id (a real Prometheus)", async () => {
    const tenant = randomUUID();
    // An executor's exposition as the Temporal SDK writes it: the default pool and a tenant's named pool.
    const exposition = [
      `temporal_num_pollers{task_queue="executor.pool.${tenant}.dmz",poller_type="activity_task"} 5`,
      'temporal_num_pollers{task_queue="executor",poller_type="activity_task"} 3',
      '',
    ].join('\n');
    const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(exposition));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => server.close());
    const executorJob = (parse(readFileSync(CONFIG, 'utf8')) as { scrape_configs: ScrapeConfig[] }).scrape_configs.find(
      (j) => j.job_name === 'executor',
    );
    expect(executorJob?.metric_relabel_configs).toBeDefined();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'opsc-relabel-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    // The profile's own relabelling, on a job that scrapes the exposition above.
    const config = {
      global: { scrape_interval: '1s' },
      scrape_configs: [
        {
          job_name: 'executor',
          static_configs: [{ targets: [`127.0.0.1:${(server.address() as AddressInfo).port}`] }],
          metric_relabel_configs: executorJob!.metric_relabel_configs,
        },
      ],
    };
    writeFileSync(path.join(dir, 'prometheus.yml'), stringify(config));
    const port = await freePort();
    const prometheus = spawn(
      'prometheus',
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: 'ignore' },
    );
    cleanups.push(() => {
      if (prometheus.exitCode === null && prometheus.pid) process.kill(prometheus.pid, 'SIGKILL');
    });
    const query = `http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent('temporal_num_pollers')}`;
    let series: { metric: Record<string, string> }[] = [];
    const deadline = Date.now() + 30_000;
    while (series.length < 2 && Date.now() < deadline) {
      series = await fetch(query).then(
        async (r) => ((await r.json()) as { data: { result: { metric: Record<string, string> }[] } }).data.result,
        () => [],
      );
      if (series.length < 2) await new Promise((r) => setTimeout(r, 250));
    }
    expect(series.map((s) => s.metric.task_queue).sort()).toEqual(['executor', 'executor.pool.dmz']);
    expect(JSON.stringify(series)).not.toContain(tenant);
  });
});
