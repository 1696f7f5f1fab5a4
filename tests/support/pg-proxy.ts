import net from 'node:net';

export interface TcpProxy {
  port: number;
  /** Cuts every connection and refuses new ones (ECONNREFUSED), as a database that went away. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<number>;
  /** The URL `url` with its port pointed at this proxy. */
  url(url: string): string;
}

/** A TCP forwarder on loopback (to PostgreSQL) that can be taken down (every connection cut, new ones refused) and brought back. */
export const startProxy = async (host: string, port: number): Promise<TcpProxy> => {
  const sockets = new Set<net.Socket>();
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
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  const listenPort = await listen(0);
  return {
    port: listenPort,
    down: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        if (!server.listening) return resolve();
        server.close(() => resolve());
      }),
    up: () => listen(listenPort),
    url(url) {
      const via = new URL(url);
      via.hostname = '127.0.0.1';
      via.port = String(listenPort);
      return via.toString();
    },
  };
};
