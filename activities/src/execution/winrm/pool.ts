import { Semaphore } from '../semaphore.js';
import type { WinrmConnection } from './transport.js';

export interface WinrmPoolOptions {
  /** Commands at once on one target: each holds a shell, and Windows allows 30 per user by default. */
  maxConcurrentPerHost: number;
  /** An idle connection is closed after this long. */
  idleMs: number;
}

interface Host {
  slots: Semaphore;
  idle: { connection: WinrmConnection; timer: NodeJS.Timeout }[];
  active: number;
}

/**
 * Authenticated WinRM connections kept per target (keyed by everything that makes a connection
 * different), so consecutive steps skip the NTLM handshake. A connection serves one command at
 * a time; a target gets at most `maxConcurrentPerHost` at once.
 */
export class WinrmPool {
  private readonly hosts = new Map<string, Host>();
  private closed = false;

  constructor(private readonly options: WinrmPoolOptions) {}

  async with<T>(
    key: string,
    connect: () => WinrmConnection,
    use: (connection: WinrmConnection) => Promise<T>,
  ): Promise<T> {
    if (this.closed) throw new Error('the WinRM pool is closed');
    let host = this.hosts.get(key);
    if (!host) {
      host = { slots: new Semaphore(this.options.maxConcurrentPerHost), idle: [], active: 0 };
      this.hosts.set(key, host);
    }
    const release = await host.slots.acquire();
    host.active += 1;
    const reused = host.idle.pop();
    if (reused) clearTimeout(reused.timer);
    const connection = reused?.connection ?? connect();
    let healthy = false;
    try {
      const result = await use(connection);
      healthy = true;
      return result;
    } finally {
      host.active -= 1;
      release();
      if (healthy && !this.closed) this.park(key, host, connection);
      else connection.close();
    }
  }

  private park(key: string, host: Host, connection: WinrmConnection): void {
    const entry = {
      connection,
      timer: setTimeout(() => {
        host.idle.splice(host.idle.indexOf(entry), 1);
        connection.close();
        if (host.idle.length === 0 && host.active === 0) this.hosts.delete(key);
      }, this.options.idleMs),
    };
    entry.timer.unref();
    host.idle.push(entry);
  }

  stats(): { hosts: number; idleConnections: number; activeCommands: number } {
    let idle = 0;
    let active = 0;
    for (const host of this.hosts.values()) {
      idle += host.idle.length;
      active += host.active;
    }
    return { hosts: this.hosts.size, idleConnections: idle, activeCommands: active };
  }

  close(): void {
    this.closed = true;
    for (const host of this.hosts.values()) {
      for (const { connection, timer } of host.idle.splice(0)) {
        clearTimeout(timer);
        connection.close();
      }
    }
    this.hosts.clear();
  }
}
