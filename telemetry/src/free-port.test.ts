import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { ephemeralPortRange, freeServicePort, portWindowBelow, reservedPorts } from './metrics.js';

const bindable = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

describe('freeServicePort', () => {
  // A port from the kernel's ephemeral range can be handed, between the pick and the service's listen,
  // to any outgoing connection on the machine (a PostgreSQL or gRPC client); its listen then fails with
  // EADDRINUSE. Ports below the range are never handed out that way.
  it('picks a free port below the ephemeral range, never one an outgoing connection can take', async () => {
    const [low] = ephemeralPortRange();
    const window = portWindowBelow(low);
    const reserved = reservedPorts();
    const picks = await Promise.all(Array.from({ length: 20 }, () => freeServicePort()));
    for (const port of picks) {
      // On a machine whose range leaves no window below it, the OS's pick (the fallback).
      if (window) expect(port).toBeGreaterThanOrEqual(window[0]);
      if (window) expect(port).toBeLessThanOrEqual(window[1]);
      expect(reserved(port)).toBe(false);
    }
    expect(new Set(picks).size).toBe(picks.length);
    expect(await bindable(picks[0]!)).toBe(true);
  });

  it('reads the range the kernel uses, and falls back to the OS pick when no window is left below it', () => {
    const [low, high] = ephemeralPortRange();
    expect(low).toBeGreaterThanOrEqual(1);
    expect(high).toBeGreaterThanOrEqual(low);
    expect(portWindowBelow(32768)).toEqual([20768, 32767]);
    expect(portWindowBelow(10000)).toEqual([1024, 9999]);
    expect(portWindowBelow(1500)).toBeUndefined();
  });

  it('skips the ports the administrator reserved', () => {
    const reserved = reservedPorts('8080,20000-20100\n');
    expect([8080, 20000, 20050, 20100].map(reserved)).toEqual([true, true, true, true]);
    expect([8081, 19999, 20101].map(reserved)).toEqual([false, false, false]);
    expect(reservedPorts('\n')(8080)).toBe(false);
  });
});
