import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureTemporalBinary, startDevServer } from '@opsc/temporal';
import { freePort } from '../support/free-port.js';
import { ipv4, ipv6, listenersOf } from '../support/listeners.js';

// Issue 15: Temporal is not an authority. It takes any update it is sent, so in the embedded mode
// nothing but this machine may reach it: its gRPC frontend, its Web UI and every other port it
// opens listen on loopback. What the kernel says (/proc/net/tcp and tcp6), not what we asked for.

const isLoopback = (address: string): boolean =>
  address.startsWith('127.') ||
  address === '0:0:0:0:0:0:0:1' ||
  /^0:0:0:0:0:ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(address);

describe('the embedded Temporal', () => {
  it("decodes the kernel's addresses as it should", () => {
    expect(ipv4('0100007F')).toBe('127.0.0.1');
    expect(ipv4('00000000')).toBe('0.0.0.0');
    expect(ipv6('00000000000000000000000001000000')).toBe('0:0:0:0:0:0:0:1');
    expect(ipv6('0000000000000000FFFF00000100007F')).toBe('0:0:0:0:0:ffff:7f00:1');
    expect(['127.0.0.1', '0:0:0:0:0:0:0:1', '0:0:0:0:0:ffff:7f00:1'].every(isLoopback)).toBe(true);
    expect(['0.0.0.0', '0:0:0:0:0:0:0:0', '10.0.0.1', '0:0:0:0:0:ffff:a00:1'].some(isLoopback)).toBe(false);
  });

  it('listens on loopback only: its gRPC frontend, its Web UI and every other port it opens', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'opsc-temporal-loopback-'));
    const port = await freePort();
    const uiPort = await freePort();
    const server = await startDevServer({
      binary: ensureTemporalBinary(),
      dbFile: path.join(dir, 'temporal.db'),
      port,
      uiPort,
      namespace: 'default',
      logFile: path.join(dir, 'temporal.log'),
    });
    try {
      // The UI serves a little after the frontend: wait for it, then read the kernel's tables.
      const deadline = Date.now() + 30_000;
      while (!listenersOf(server.pid).some((l) => l.port === uiPort)) {
        if (Date.now() > deadline) throw new Error(`the Web UI never listened on ${uiPort}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const listeners = listenersOf(server.pid);
      expect(listeners.map((l) => l.port)).toEqual(expect.arrayContaining([port, uiPort]));
      expect(listeners.filter((l) => !isLoopback(l.address))).toEqual([]);
      expect(server.uiUrl).toBe(`http://127.0.0.1:${uiPort}`);
      expect((await fetch(`${server.uiUrl}/`, { signal: AbortSignal.timeout(10_000) })).ok).toBe(true);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
