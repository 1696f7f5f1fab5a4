import type { Client, SFTPWrapper } from 'ssh2';
import { ErrorType } from '@opsc/contracts';
import { ChannelOpenError } from './exec.js';
import { RemoteFailure } from '../remote-failure.js';
import { Semaphore } from '../semaphore.js';

export interface SshPoolOptions {
  /** Exec channels per connection: sshd's MaxSessions (10 by default) less one kept for SFTP. */
  maxChannelsPerConnection: number;
  /** Handshakes in flight across all targets, so a wide fan-out does not trip MaxStartups or starve the CPU. */
  maxHandshakes: number;
  /** A connection with nothing open for this long is closed. */
  idleMs: number;
}

interface Connection {
  client: Client;
  alive: boolean;
  /** Set once a channel has been used on it: a stale pooled connection is retried, a fresh one is not. */
  used: boolean;
  active: number;
  limit: number;
  sftpBusy: boolean;
  waiters: (() => void)[];
  idleTimer: NodeJS.Timeout | undefined;
}

/**
 * One SSH connection per target (keyed by everything that makes a connection different), shared
 * by every step and job on this executor: channels are multiplexed on it up to a limit, it is
 * re-made when it dies and closed when idle.
 */
export class SshPool {
  private readonly connections = new Map<string, Promise<Connection>>();
  private readonly handshakes: Semaphore;
  private closed = false;

  constructor(private readonly options: SshPoolOptions) {
    this.handshakes = new Semaphore(options.maxHandshakes);
  }

  /** Runs `use` with an exec channel's worth of the connection to `key`. */
  async withChannel<T>(key: string, connect: () => Promise<Client>, use: (client: Client) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt += 1) {
      const conn = await this.acquire(key, connect, 'exec');
      const wasUsed = conn.used;
      conn.used = true;
      try {
        return await use(conn.client);
      } catch (err) {
        if (err instanceof ChannelOpenError && err.prohibited && conn.active > 1) {
          // The server allows fewer sessions than assumed: remember and queue behind the others.
          conn.limit = Math.max(1, conn.active - 1);
          continue;
        }
        if (err instanceof ChannelOpenError && wasUsed && attempt === 0) {
          // A pooled connection that died unnoticed: drop it and try once on a fresh one.
          this.discard(key, conn);
          continue;
        }
        if (err instanceof ChannelOpenError)
          throw new RemoteFailure(ErrorType.ConnectionLost, `could not open a channel: ${err.message}`);
        throw err;
      } finally {
        this.release(key, conn, 'exec');
      }
    }
  }

  /** Runs `use` with an SFTP session on the connection to `key` (one at a time per connection). */
  async withSftp<T>(key: string, connect: () => Promise<Client>, use: (sftp: SFTPWrapper) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt += 1) {
      const conn = await this.acquire(key, connect, 'sftp');
      const wasUsed = conn.used;
      conn.used = true;
      let sftp: SFTPWrapper;
      try {
        sftp = await new Promise<SFTPWrapper>((resolve, reject) =>
          conn.client.sftp((err, s) => (err ? reject(err) : resolve(s))),
        );
      } catch (err) {
        this.release(key, conn, 'sftp');
        if (wasUsed && attempt === 0) {
          this.discard(key, conn);
          continue;
        }
        throw new RemoteFailure(ErrorType.ConnectionLost, `could not start SFTP: ${(err as Error).message}`);
      }
      try {
        return await use(sftp);
      } finally {
        sftp.end();
        this.release(key, conn, 'sftp');
      }
    }
  }

  stats(): { connections: number; handshakesInFlight: number } {
    return { connections: this.connections.size, handshakesInFlight: this.handshakes.inUse };
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = await Promise.allSettled([...this.connections.values()]);
    this.connections.clear();
    for (const r of all) if (r.status === 'fulfilled') r.value.client.end();
  }

  private async acquire(key: string, connect: () => Promise<Client>, kind: 'exec' | 'sftp'): Promise<Connection> {
    for (;;) {
      if (this.closed) throw new RemoteFailure(ErrorType.Unavailable, 'the executor is shutting down');
      const conn = await this.connection(key, connect);
      if (!conn.alive) continue;
      const free = kind === 'exec' ? conn.active < conn.limit : !conn.sftpBusy;
      if (free) {
        if (kind === 'exec') conn.active += 1;
        else conn.sftpBusy = true;
        clearTimeout(conn.idleTimer);
        return conn;
      }
      await new Promise<void>((resolve) => conn.waiters.push(resolve));
    }
  }

  private release(key: string, conn: Connection, kind: 'exec' | 'sftp'): void {
    if (kind === 'exec') conn.active -= 1;
    else conn.sftpBusy = false;
    for (const wake of conn.waiters.splice(0)) wake();
    if (conn.alive && conn.active === 0 && !conn.sftpBusy) {
      conn.idleTimer = setTimeout(() => this.discard(key, conn), this.options.idleMs);
      conn.idleTimer.unref();
    }
  }

  private discard(key: string, conn: Connection): void {
    conn.alive = false;
    clearTimeout(conn.idleTimer);
    void this.connections.get(key)?.then(
      (current) => current === conn && this.connections.delete(key),
      () => undefined,
    );
    conn.client.end();
    for (const wake of conn.waiters.splice(0)) wake();
  }

  private connection(key: string, connect: () => Promise<Client>): Promise<Connection> {
    const existing = this.connections.get(key);
    if (existing) return existing;
    const made = this.handshake(connect).then((client) => {
      const conn: Connection = {
        client,
        alive: true,
        used: false,
        active: 0,
        limit: this.options.maxChannelsPerConnection,
        sftpBusy: false,
        waiters: [],
        idleTimer: undefined,
      };
      // Dropped connections leave the pool at once; the next step on this target reconnects.
      client.on('close', () => this.discard(key, conn));
      client.on('error', () => this.discard(key, conn));
      return conn;
    });
    this.connections.set(key, made);
    // A failed handshake is not cached: the next caller tries again.
    made.catch(() => {
      if (this.connections.get(key) === made) this.connections.delete(key);
    });
    return made;
  }

  private async handshake(connect: () => Promise<Client>): Promise<Client> {
    const release = await this.handshakes.acquire();
    try {
      return await connect();
    } finally {
      release();
    }
  }
}
