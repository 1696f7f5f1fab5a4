import { readFileSync } from 'node:fs';
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

const DEFAULT_EPHEMERAL: [number, number] = [32768, 60999];
const WINDOW = 12_000;

/** The kernel's ephemeral port range (`ip_local_port_range`), or Linux's default where it cannot be read. */
export const ephemeralPortRange = (): [number, number] => {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high) && low! > 0 && high! >= low!) return [low!, high!];
  } catch {
    // Not Linux, or no /proc: the default.
  }
  return DEFAULT_EPHEMERAL;
};

/** The ports just below the ephemeral range (above the privileged ones), or none when too few are left. */
export const portWindowBelow = (ephemeralLow: number): [number, number] | undefined => {
  const high = ephemeralLow - 1;
  const low = Math.max(1024, ephemeralLow - WINDOW);
  return high - low >= 1_000 ? [low, high] : undefined;
};

const tryListen = (port: number): Promise<number | undefined> =>
  new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : undefined));
    });
  });

/** Ports set aside by the machine's administrator (`ip_local_reserved_ports`): never handed out here. */
export const reservedPorts = (text?: string): ((port: number) => boolean) => {
  let raw = text;
  if (raw === undefined) {
    try {
      raw = readFileSync('/proc/sys/net/ipv4/ip_local_reserved_ports', 'utf8');
    } catch {
      raw = '';
    }
  }
  const ranges = raw
    .split(',')
    .map((part) => part.trim().split('-').map(Number))
    .filter((r) => r.length > 0 && r.every((n) => Number.isInteger(n) && n > 0))
    .map(([low, high]) => [low!, high ?? low!] as const);
  return (port) => ranges.some(([low, high]) => port >= low && port <= high);
};

/** Ports this process handed out lately, so two services it starts at once do not get the same one. */
const handedOut = new Set<number>();

/**
 * A TCP port free on 127.0.0.1 right now, for a service this process starts and that listens on it
 * a moment later (a test's or the dev stack's). It is chosen below the kernel's ephemeral range,
 * outside the ports the administrator reserved: a port from the ephemeral range can be handed to any
 * outgoing connection on the machine in the gap before the listen, which then fails with
 * EADDRINUSE. The OS's own pick is the fallback when no free port is found below the range.
 */
export const freeServicePort = async (): Promise<number> => {
  const window = portWindowBelow(ephemeralPortRange()[0]);
  const reserved = reservedPorts();
  for (let attempt = 0; window && attempt < 100; attempt++) {
    const port = window[0] + Math.floor(Math.random() * (window[1] - window[0] + 1));
    if (handedOut.has(port) || reserved(port)) continue;
    // Taken before the check, so a pick running beside this one cannot choose it too.
    handedOut.add(port);
    if ((await tryListen(port)) === port) {
      if (handedOut.size > 1_000) handedOut.delete(handedOut.values().next().value!);
      return port;
    }
    handedOut.delete(port);
  }
  return freeLoopbackPort();
};

/**
 * A TCP port free on 127.0.0.1 right now (the OS picks it), for this process itself to listen on at
 * once: the SDK's internal metrics exporter. Long-lived listeners stay in the ephemeral range, away
 * from the fixed ports other daemons of the machine use.
 */
export const freeLoopbackPort = async (): Promise<number> => {
  const port = await tryListen(0);
  if (port === undefined) throw new Error('no free port on 127.0.0.1');
  return port;
};

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
