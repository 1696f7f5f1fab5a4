// The web app's server: Next.js's request handler behind a plain HTTP server that says who the
// client is. The API limits failed sign-ins per source address; through a proxy that address must be
// the browser's, and never a header the browser wrote itself (Next.js keeps a client's own
// X-Forwarded-For), or one client's failures would lock everyone out and a liar would have no limit.
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import next from 'next';

const { values } = parseArgs({
  options: { port: { type: 'string', default: '3000' }, hostname: { type: 'string', default: '127.0.0.1' } },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new Error(`--port: ${values.port} is not a port`);
// Reverse proxies in front of this server (their addresses, comma-separated): only theirs is an
// X-Forwarded-For worth reading, from its right end, one hop per trusted proxy.
const trusted = new Set(
  (process.env.WEB_TRUSTED_PROXIES ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean),
);

/** The browser's address: the socket's peer, or, behind trusted proxies, the hop before the first of them. */
const clientAddress = (req) => {
  let address = req.socket.remoteAddress ?? '';
  const hops = String(req.headers['x-forwarded-for'] ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  while (trusted.has(address) && hops.length > 0) address = hops.pop();
  return address;
};

const app = next({ dev: false, dir: path.dirname(fileURLToPath(import.meta.url)), hostname: values.hostname, port });
const handle = app.getRequestHandler();
await app.prepare();
http
  .createServer((req, res) => {
    req.headers['x-forwarded-for'] = clientAddress(req);
    void handle(req, res);
  })
  .listen(port, values.hostname, () =>
    // One JSON object per line, with the keys every service's lines have (docs/logging.md).
    process.stdout.write(
      `${JSON.stringify({ at: new Date().toISOString(), level: 'info', service: 'web', msg: 'web app ready', url: `http://${values.hostname}:${port}` })}\n`,
    ),
  );
