import http from 'node:http';
import net from 'node:net';
import type { Registry } from 'prom-client';
import type { MetricsExporterConfig } from '@temporalio/worker';

/**
 * The Temporal SDK's own metrics (task slots, pollers, schedule-to-start, sticky cache), exported by
 * Core's Prometheus exporter on an internal loopback port. The service's `/metrics` appends them to
 * its own (see `metricsText`), so Prometheus scrapes one endpoint per service.
 */
export const sdkMetricsOptions = (port: number): MetricsExporterConfig => ({
  prometheus: {
    bindAddress: `127.0.0.1:${port}`,
    useSecondsForDurations: true,
  },
});

/** A TCP port free on 127.0.0.1 right now (the OS picks it), for the SDK's internal exporter. */
export const freeLoopbackPort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port')),
      );
    });
  });

const SDK_SCRAPE_TIMEOUT_MS = 2_000;

/** The SDK exporter's text, or '' when it does not answer in time (the service's own metrics still go out). */
export const sdkExposition = (port: number, timeoutMs = SDK_SCRAPE_TIMEOUT_MS): Promise<string> =>
  new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/metrics', timeout: timeoutMs }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        resolve('');
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', () => resolve(''));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(''));
  });

/** prom-client's exposition followed by the SDK's (their names never meet: `opsc_*` and `temporal_*`). */
export const metricsText = async (registry: Registry, sdkPort?: number): Promise<string> => {
  const [own, sdk] = await Promise.all([registry.metrics(), sdkPort ? sdkExposition(sdkPort) : Promise.resolve('')]);
  if (!sdk) return own;
  return `${own.endsWith('\n') ? own : `${own}\n`}${sdk.endsWith('\n') ? sdk : `${sdk}\n`}`;
};

/** Answers `GET /metrics` with `metricsText`; anything else 404. True when it answered. */
export const serveMetrics = (
  registry: Registry,
  sdkPort: number | undefined,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): boolean => {
  if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') return false;
  metricsText(registry, sdkPort).then(
    (text) => {
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(text);
    },
    () => {
      res.writeHead(500).end();
    },
  );
  return true;
};

/** A listener of its own for `/metrics` (kept off a public API port). */
export const createMetricsServer = (registry: Registry, sdkPort?: number): http.Server =>
  http.createServer((req, res) => {
    if (serveMetrics(registry, sdkPort, req, res)) return;
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  });

/**
 * A label value from a closed set: anything else becomes `other`, so a caller's input can never
 * make a new series.
 */
export const boundedLabel = <T extends string>(value: unknown, allowed: readonly T[], other = 'other'): T | string =>
  typeof value === 'string' && (allowed as readonly string[]).includes(value) ? value : other;
