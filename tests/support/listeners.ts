import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** A TCP port a process listens on, as the kernel reports it. */
export interface Listener {
  /** IPv4 dotted, or IPv6 as eight hex groups. */
  address: string;
  port: number;
}

/** IPv4 in /proc/net/tcp: one 32-bit word in host (little-endian) order. */
export const ipv4 = (hex: string): string => [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16)).join('.');
/** IPv6 in /proc/net/tcp6: four 32-bit words, each in host order. */
export const ipv6 = (hex: string): string => {
  const bytes = [0, 8, 16, 24].flatMap((w) => [6, 4, 2, 0].map((i) => hex.slice(w + i, w + i + 2)));
  return Array.from({ length: 8 }, (_, g) => parseInt(bytes[2 * g]! + bytes[2 * g + 1]!, 16).toString(16)).join(':');
};

/** Every TCP socket the process listens on, read from the kernel's tables by the socket inodes it holds. */
export const listenersOf = (pid: number): Listener[] => {
  const inodes = new Set(
    readdirSync(`/proc/${pid}/fd`)
      .map((fd) => {
        try {
          return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        } catch {
          return undefined; // closed meanwhile
        }
      })
      .filter((x): x is string => x !== undefined),
  );
  const LISTEN = '0A';
  return (['tcp', 'tcp6'] as const).flatMap((table) =>
    readFileSync(`/proc/net/${table}`, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((f) => f[3] === LISTEN && inodes.has(f[9] ?? ''))
      .map((f) => {
        const [addr = '', port = ''] = (f[1] ?? '').split(':');
        return { address: table === 'tcp' ? ipv4(addr) : ipv6(addr), port: parseInt(port, 16) };
      }),
  );
};
