import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A loopback HTTP server that records every request it receives (`METHOD /path`), answering "ok". */
export const recorder = async (): Promise<{ server: http.Server; hits: string[]; host: string }> => {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, hits, host: `127.0.0.1:${(server.address() as AddressInfo).port}` };
};
