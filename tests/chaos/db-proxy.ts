import net from 'node:net';

export interface PgProxy {
  port: number;
  /** Every connection cut and new ones refused, as when PostgreSQL goes away. */
  down(): Promise<void>;
  up(): Promise<number>;
  close(): Promise<void>;
}

/**
 * A TCP forwarder to PostgreSQL that can be taken down and brought back: services started with a
 * URL through it lose their database while the suite's shared PostgreSQL keeps running for others.
 */
export const startPgProxy = async (host: string, port: number): Promise<PgProxy> => {
  const sockets = new Set<net.Socket>();
  let listening = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(port, host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined).on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  const listen = (at: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(at, '127.0.0.1', () => {
        server.off('error', reject);
        listening = true;
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  const listenPort = await listen(0);
  const down = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      if (!listening) return resolve();
      listening = false;
      server.close(() => resolve());
    });
  return { port: listenPort, down, up: () => listen(listenPort), close: down };
};

/** The same database URL, through the proxy. */
export const viaProxy = (url: string, proxy: PgProxy): string => {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(proxy.port);
  return u.toString();
};
