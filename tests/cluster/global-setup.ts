import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type RunningPostgres } from '@opsc/database';
import { REPO_ROOT } from '@opsc/dev';
import { CLUSTER_SERVICES, startTemporalCluster, type ClusterService } from '@opsc/temporal/cluster';
import { freePort } from '../support/free-port.js';
import { provideRunContext } from '../support/run-context.js';
import type { ClusterState } from './control.js';

const say = (line: string) => process.stdout.write(`[cluster] ${line}\n`);

/**
 * The cluster project's run: its own PostgreSQL, a production-shaped Temporal cluster on it (history,
 * matching, worker and two frontends as separate processes, HAProxy in front; docs/temporal-cluster.md),
 * and a control endpoint on loopback through which test files inject faults into those processes.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = new Date();
  const t0 = Date.now();
  const binDir = execFileSync('bash', [path.join(REPO_ROOT, 'temporal/bin/ensure-temporal-server.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  say(`temporal server ${binDir} (ensured in ${Date.now() - t0} ms)`);
  const runDir = await mkdtemp(path.join(os.tmpdir(), 'opsc-cluster-'));
  // PostgreSQL runs as an unprivileged user when we are root; it must be able to enter this folder.
  await chmod(runDir, 0o755);
  const pgOptions = { dataDir: path.join(runDir, 'pg'), port: await freePort(), database: 'postgres' };
  let postgres: RunningPostgres | undefined = await startEmbeddedPostgres(pgOptions);
  const adminUrl = postgres.url;
  const t1 = Date.now();
  const temporal = await startTemporalCluster({
    binDir,
    postgresUrl: adminUrl,
    dir: path.join(runDir, 'temporal'),
    logDir: path.join(REPO_ROOT, 'test-results', 'logs'),
  }).catch(async (err: unknown) => {
    await postgres?.stop();
    throw err;
  });
  say(`started in ${Date.now() - t1} ms: every service serves, clients use the balancer ${temporal.address}`);

  const state = async (): Promise<ClusterState> => ({
    pids: Object.fromEntries(CLUSTER_SERVICES.map((s) => [s, temporal.pid(s)]).filter(([, pid]) => pid)),
    balancer: await temporal.balancer(),
  });
  const routes: Record<string, (url: URL) => Promise<unknown>> = {
    'GET /state': () => Promise.resolve(),
    'POST /ready': () => temporal.waitReady(),
    'POST /postgres/stop': async () => {
      await postgres?.stop();
      postgres = undefined;
    },
    'POST /postgres/start': async () => {
      postgres ??= await startEmbeddedPostgres(pgOptions);
    },
  };
  const serviceRoute = /^POST \/services\/([a-z-]+)\/(kill|start)$/;
  // Only this run's tests know the path's secret: no other local process or web page drives the faults.
  const secret = `/${randomBytes(16).toString('hex')}`;
  const control = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (!url.pathname.startsWith(`${secret}/`)) {
      res.writeHead(404).end('{}');
      return;
    }
    const key = `${req.method} ${url.pathname.slice(secret.length)}`;
    const match = serviceRoute.exec(key);
    const service = match?.[1] as ClusterService | undefined;
    const action =
      routes[key] ??
      (service && CLUSTER_SERVICES.includes(service)
        ? match?.[2] === 'kill'
          ? () => temporal.kill(service, url.searchParams.get('signal') === 'SIGTERM' ? 'SIGTERM' : 'SIGKILL')
          : () => temporal.start(service)
        : undefined);
    if (!action) {
      res.writeHead(404).end('{}');
      return;
    }
    const t = Date.now();
    action(url)
      .then(state)
      .then((body) => {
        if (key !== 'GET /state') say(`${key} done in ${Date.now() - t} ms`);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      })
      .catch((err: Error) => res.writeHead(500).end(JSON.stringify({ error: err.message })));
  });
  const controlPort = await freePort();
  await new Promise<void>((resolve) => control.listen(controlPort, '127.0.0.1', resolve));
  project.provide('clusterControlUrl', `http://127.0.0.1:${controlPort}${secret}`);
  const run = await provideRunContext(project, {
    temporalAddress: temporal.address,
    postgresAdminUrl: adminUrl,
    runDir,
    started,
  });
  return async () => {
    try {
      await run.scan();
    } finally {
      await new Promise((resolve) => control.close(resolve));
      await temporal.stop();
      await postgres?.stop();
      await run.cleanup();
      // The run's database, configurations (with PostgreSQL's password) and scan files; logs stay in test-results/logs.
      await rm(runDir, { recursive: true, force: true });
    }
  };
}
