import net from 'node:net';

export interface ThrottleProxy {
  port: number;
  /** Bytes forwarded from clients to the upstream so far. */
  sent(): number;
  close(): Promise<void>;
}

/**
 * A TCP forwarder on the upstream's own loopback address that passes client -> upstream bytes at most `bytesPerSecond` (the
 * other way unthrottled): a slow link the test controls, so a transfer lasts long enough to be
 * watched while it runs, however fast the machine.
 */
export const startThrottleProxy = async (
  host: string,
  port: number,
  bytesPerSecond: number,
): Promise<ThrottleProxy> => {
  const sockets = new Set<net.Socket>();
  let forwarded = 0;
  const server = net.createServer((client) => {
    const upstream = net.connect(port, host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined).on('close', () => sockets.delete(s));
    }
    // A token bucket holding at most 64 kB: an idle connection (a pooled SSH session) saves up no burst.
    const burst = 65_536;
    let credit = burst;
    let at = Date.now();
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      forwarded += chunk.length;
      const now = Date.now();
      credit = Math.min(burst, credit + ((now - at) / 1000) * bytesPerSecond) - chunk.length;
      at = now;
      // Over the allowed rate: stop reading until the link has caught up.
      if (credit < 0) {
        client.pause();
        setTimeout(() => client.resume(), (-credit / bytesPerSecond) * 1000).unref();
      }
    });
    client.on('end', () => upstream.end());
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    sent: () => forwarded,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
};
