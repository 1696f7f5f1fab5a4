/*
 * IP addresses as bytes, parsed without Node built-ins (contracts run in the workflow sandbox and the
 * browser). The egress policy needs more than `net.isIP`: an address can be written many ways
 * (`2130706433`, `0x7f.1`, `::ffff:127.0.0.1`) and each must be judged as the address it really is.
 */

/** An address: 4 bytes (IPv4) or 16 bytes (IPv6). */
export type IpBytes = readonly number[];

/** What an address is, for the egress policy; only `public` is reachable without a tenant's say-so. */
export type AddressClass = 'public' | 'loopback' | 'unspecified' | 'link-local' | 'private' | 'multicast' | 'reserved';

const MAX_PART_DIGITS = 12;

/** One part of an IPv4 address as `inet_aton` and URL parsers read it: decimal, octal (`0` prefix) or hex (`0x`). */
const ipv4Part = (part: string): number | null => {
  if (part.length === 0 || part.length > MAX_PART_DIGITS) return null;
  if (/^0x[0-9a-f]*$/i.test(part)) return part.length === 2 ? 0 : parseInt(part.slice(2), 16);
  if (/^0[0-7]+$/.test(part)) return parseInt(part, 8);
  if (/^(?:0|[1-9][0-9]*)$/.test(part)) return Number(part);
  return null;
};

/**
 * An IPv4 address in any form `inet_aton` (and so `getaddrinfo`, ping, curl) accepts: one to four
 * parts, the last filling the remaining bytes (`127.1`, `2130706433`, `0x7f.0.0.1`, `0177.0.0.1`).
 */
export const parseIpv4Loose = (text: string): IpBytes | null => {
  const parts = text.split('.');
  if (parts.length > 4) return null;
  const values = parts.map(ipv4Part);
  if (values.some((v) => v === null)) return null;
  const nums = values as number[];
  const last = nums.pop()!;
  if (nums.some((v) => v > 255) || last >= 256 ** (4 - nums.length)) return null;
  const bytes = [...nums];
  for (let i = 4 - nums.length - 1; i >= 0; i--) bytes.push(Math.floor(last / 256 ** i) % 256);
  return bytes;
};

/** An IPv4 address written as four decimal numbers (what a person writes in a rule). */
export const parseIpv4Strict = (text: string): IpBytes | null => {
  if (
    !/^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$/.test(
      text,
    )
  )
    return null;
  return text.split('.').map(Number);
};

const groups = (side: string): string[] => (side === '' ? [] : side.split(':'));

/** An IPv6 address (optionally in brackets, with an IPv4 tail); zone ids (`%eth0`) are refused. */
export const parseIpv6 = (input: string): IpBytes | null => {
  const text = input.startsWith('[') && input.endsWith(']') ? input.slice(1, -1) : input;
  if (!text.includes(':') || text.includes('%')) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const words: number[][] = [];
  let v4: IpBytes | null = null;
  const lastGroup = [...head, ...tail].at(-1);
  if (lastGroup?.includes('.')) {
    // The IPv4 tail must end the address (`::ffff:1.2.3.4`, not `1.2.3.4::`).
    if (halves.length === 2 && tail.length === 0) return null;
    v4 = parseIpv4Strict(lastGroup);
    if (!v4) return null;
    (tail.length > 0 ? tail : head).pop();
  }
  for (const g of [...head, ...tail]) if (!/^[0-9a-f]{1,4}$/i.test(g)) return null;
  const explicit = head.length + tail.length + (v4 ? 2 : 0);
  if (halves.length === 1 ? explicit !== 8 : explicit > 7) return null;
  const word = (g: string) => {
    const n = parseInt(g, 16);
    return [n >> 8, n & 0xff];
  };
  for (const g of head) words.push(word(g));
  for (let i = 0; i < 8 - explicit; i++) words.push([0, 0]);
  for (const g of tail) words.push(word(g));
  const bytes = words.flat();
  if (v4) bytes.push(...v4);
  return bytes;
};

/** An address as the resolver or a URL parser gives it: dotted IPv4 or IPv6. */
export const parseIp = (text: string): IpBytes | null => parseIpv4Strict(text) ?? parseIpv6(text);

/** Whether `bytes` lies in `network/prefix` (both of the same family). */
export const inNetwork = (bytes: IpBytes, network: IpBytes, prefix: number): boolean => {
  if (bytes.length !== network.length) return false;
  for (let bit = 0; bit < prefix; bit += 8) {
    const take = Math.min(8, prefix - bit);
    const mask = (0xff << (8 - take)) & 0xff;
    if ((bytes[bit / 8]! & mask) !== (network[bit / 8]! & mask)) return false;
  }
  return true;
};

const net = (text: string, prefix: number): { network: IpBytes; prefix: number } => ({
  network: parseIp(text)!,
  prefix,
});

/**
 * IPv6 forms that carry an IPv4 address: mapped (`::ffff:a.b.c.d`), translated, compatible, NAT64
 * and 6to4. Each is judged as the IPv4 address too, so `::ffff:127.0.0.1` is loopback.
 */
const EMBEDDING: readonly { network: IpBytes; prefix: number; at: number }[] = [
  { ...net('::ffff:0:0', 96), at: 12 },
  { ...net('::ffff:0:0:0', 96), at: 12 },
  { ...net('64:ff9b::', 96), at: 12 },
  { ...net('::', 96), at: 12 },
  { ...net('2002::', 16), at: 2 },
];

/** The IPv4 address an IPv6 address carries, if it carries one. */
export const embeddedIpv4 = (bytes: IpBytes): IpBytes | null => {
  if (bytes.length !== 16) return null;
  for (const e of EMBEDDING) if (inNetwork(bytes, e.network, e.prefix)) return bytes.slice(e.at, e.at + 4);
  return null;
};

/** The address a socket really reaches: `::ffff:a.b.c.d` is `a.b.c.d`; anything else is itself. */
export const effectiveAddress = (bytes: IpBytes): IpBytes =>
  bytes.length === 16 && inNetwork(bytes, EMBEDDING[0]!.network, 96) ? bytes.slice(12) : bytes;

const V4_CLASSES: readonly { network: IpBytes; prefix: number; cls: AddressClass }[] = [
  { ...net('0.0.0.0', 8), cls: 'unspecified' },
  { ...net('127.0.0.0', 8), cls: 'loopback' },
  { ...net('169.254.0.0', 16), cls: 'link-local' },
  { ...net('10.0.0.0', 8), cls: 'private' },
  { ...net('172.16.0.0', 12), cls: 'private' },
  { ...net('192.168.0.0', 16), cls: 'private' },
  // Carrier-grade NAT, IETF protocol assignments, benchmarking: not the public internet either.
  { ...net('100.64.0.0', 10), cls: 'private' },
  { ...net('192.0.0.0', 24), cls: 'private' },
  { ...net('198.18.0.0', 15), cls: 'private' },
  { ...net('224.0.0.0', 4), cls: 'multicast' },
  { ...net('240.0.0.0', 4), cls: 'reserved' },
];

const V6_CLASSES: readonly { network: IpBytes; prefix: number; cls: AddressClass }[] = [
  { ...net('::', 128), cls: 'unspecified' },
  { ...net('::1', 128), cls: 'loopback' },
  { ...net('fe80::', 10), cls: 'link-local' },
  { ...net('fec0::', 10), cls: 'private' },
  { ...net('fc00::', 7), cls: 'private' },
  { ...net('64:ff9b:1::', 48), cls: 'private' },
  { ...net('ff00::', 8), cls: 'multicast' },
  { ...net('100::', 64), cls: 'reserved' },
  // Teredo tunnels carry a server and an obfuscated client address: nothing to reach on purpose.
  { ...net('2001::', 32), cls: 'reserved' },
];

const ORDER: Record<AddressClass, number> = {
  public: 0,
  reserved: 1,
  multicast: 2,
  private: 3,
  'link-local': 4,
  unspecified: 5,
  loopback: 6,
};

const ownClass = (bytes: IpBytes): AddressClass =>
  (bytes.length === 4 ? V4_CLASSES : V6_CLASSES).find((c) => inNetwork(bytes, c.network, c.prefix))?.cls ?? 'public';

/** What an address is; an IPv6 form carrying an IPv4 address is the stricter of the two. */
export const classifyAddress = (bytes: IpBytes): AddressClass => {
  const own = ownClass(bytes);
  const v4 = embeddedIpv4(bytes);
  if (!v4 || own !== 'public') return own;
  const inner = ownClass(v4);
  return ORDER[inner] > ORDER[own] ? inner : own;
};

export const sameAddress = (a: IpBytes, b: IpBytes): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** Readable form for messages: dotted IPv4, or IPv6 with the longest run of zero groups as `::`. */
export const formatIp = (bytes: IpBytes): string => {
  if (bytes.length === 4) return bytes.join('.');
  const words = Array.from({ length: 8 }, (_, i) => (bytes[2 * i]! << 8) | bytes[2 * i + 1]!);
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > best.len && j - i > 1) best = { at: i, len: j - i };
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (best.at < 0) return hex.join(':');
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.len).join(':')}`;
};
