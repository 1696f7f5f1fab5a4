/*
 * Where a step may send network traffic from the executor host (http steps, network diagnostics).
 * Public and private addresses are fine. Loopback, link-local and other special addresses are refused
 * unless the tenant allows the destination; cloud metadata and the platform's own services are
 * refused always, whatever a tenant says. Pure: the executor feeds it the addresses it resolved and
 * connects to the address it judged; the planner judges URLs before any DNS.
 */
import { z } from 'zod';
import {
  classifyAddress,
  effectiveAddress,
  embeddedIpv4,
  formatIp,
  inNetwork,
  parseIp,
  parseIpv4Loose,
  parseIpv4Strict,
  parseIpv6,
  sameAddress,
  type AddressClass,
  type IpBytes,
} from './ip-address.js';

/** Cloud instance metadata and platform agents (AWS, ECS, GCP, Azure, Alibaba, Oracle). */
const METADATA_ADDRESSES: readonly IpBytes[] = [
  '169.254.169.254',
  '169.254.170.2',
  '169.254.170.23',
  '100.100.100.200',
  '192.0.0.192',
  '168.63.129.16',
  'fd00:ec2::254',
].map((a) => parseIp(a)!);
const METADATA_NAMES: ReadonlySet<string> = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
  'metadata.tencentyun.com',
  'metadata.platformequinix.com',
]);

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** A name as compared: lower case, without the root's trailing dot. */
const normalName = (host: string): string => host.toLowerCase().replace(/\.$/, '');

const isMetadataAddress = (bytes: IpBytes): boolean => {
  const v4 = embeddedIpv4(bytes);
  return METADATA_ADDRESSES.some((m) => sameAddress(m, bytes) || (v4 !== null && sameAddress(m, v4)));
};

/** Addresses that are this host: a rule covering one must name a port (every local service listens there). */
const THIS_HOST: readonly IpBytes[] = ['127.0.0.1', '0.0.0.0', '::1', '::', '::ffff:127.0.0.1', '::ffff:0.0.0.0'].map(
  (a) => parseIp(a)!,
);
const LOOPBACK_NEEDS_PORT =
  'a loopback destination must name its port (host:port): every service of this host listens on loopback';

/** One destination of an allow or deny list: a host name, an address or a range, with or without a port. */
export interface EgressRule {
  /** As written. */
  text: string;
  /** A host name (lower case), or null for an address or a range. */
  name: string | null;
  /** The address or network; an address is a /32 or /128. */
  network: IpBytes | null;
  prefix: number;
  /** null: every port. */
  port: number | null;
}

/** `host[:port]`, `a.b.c.d[/n][:port]`, `[v6[/n]][:port]` or a bare `v6[/n]`; an error says what is wrong. */
export const parseEgressRule = (input: string): { rule: EgressRule } | { error: string } => {
  const text = input.trim();
  let hostPart = text;
  let port: number | null = null;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (bracketed) {
    hostPart = bracketed[1]!;
    if (bracketed[2] !== undefined) port = portOf(bracketed[2]);
  } else if ((text.match(/:/g) ?? []).length === 1) {
    const at = text.lastIndexOf(':');
    hostPart = text.slice(0, at);
    port = portOf(text.slice(at + 1));
  }
  if (Number.isNaN(port)) return { error: 'the port must be a number from 1 to 65535' };
  const [address, prefixText, ...rest] = hostPart.split('/');
  if (rest.length > 0 || address === undefined) return { error: 'write host[:port], an address or a CIDR range' };
  const v4 = parseIpv4Strict(address);
  const v6 = v4 ? null : parseIpv6(address);
  const bytes = v4 ?? v6;
  if (bytes) {
    const bits = bytes.length * 8;
    const prefix = prefixText === undefined ? bits : /^[0-9]{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
    if (!(prefix >= (bytes.length === 4 ? 8 : 7) && prefix <= bits)) {
      return { error: `the prefix length must be from ${bytes.length === 4 ? 8 : 7} to ${bits}` };
    }
    if (prefix === bits && isMetadataAddress(bytes))
      return { error: `${address} is a cloud metadata address: it is never allowed` };
    if (port === null && THIS_HOST.some((h) => inNetwork(h, bytes, prefix))) return { error: LOOPBACK_NEEDS_PORT };
    return { rule: { text, name: null, network: bytes, prefix, port } };
  }
  if (prefixText !== undefined) return { error: 'a range needs an address, as a.b.c.d/n or [v6]/n' };
  if (/^[0-9a-fx.]+$/i.test(address) && parseIpv4Loose(address))
    return { error: 'write an IPv4 address as four decimal numbers (a.b.c.d)' };
  const name = normalName(address);
  if (!HOST_NAME.test(name)) return { error: 'not a host name, address or range' };
  if (METADATA_NAMES.has(name)) return { error: `${name} is a cloud metadata service: it is never allowed` };
  if (port === null && (name === 'localhost' || name.endsWith('.localhost'))) return { error: LOOPBACK_NEEDS_PORT };
  return { rule: { text, name, network: null, prefix: 0, port } };
};

function portOf(text: string): number {
  return /^[0-9]{1,5}$/.test(text) && Number(text) >= 1 && Number(text) <= 65_535 ? Number(text) : NaN;
}

/** Parses rules that were checked when they were written; a bad one throws, naming it. */
export const egressRules = (texts: readonly string[]): EgressRule[] =>
  texts.map((t) => {
    const parsed = parseEgressRule(t);
    if ('error' in parsed) throw new Error(`${t}: ${parsed.error}`);
    return parsed.rule;
  });

export interface EgressPolicy {
  /** The tenant's allowed destinations (loopback, link-local, private use). */
  allow: readonly EgressRule[];
  /** The platform's own services: never reachable, whatever the tenant allows. */
  platform: readonly EgressRule[];
  /** This host's own addresses: a platform service on loopback or 0.0.0.0 is reachable on these too. */
  localAddresses?: readonly string[];
}

export type EgressRefusal =
  'scheme' | 'invalid' | 'metadata' | 'platform' | Exclude<AddressClass, 'public' | 'private'>;

/**
 * `resolve`: a host name no rule decides before DNS; the executor resolves it and judges every
 * address at connect time.
 */
export type EgressVerdict =
  | { allowed: true; why: 'public' | 'private' | 'allowed' | 'resolve'; rule?: string }
  | { allowed: false; refusal: EgressRefusal; message: string };

const where = (host: string, port: number | null) =>
  port === null ? host : host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
const portMatches = (rule: EgressRule, port: number | null) => rule.port === null || rule.port === port;

/** Whether an address is this host: loopback, unspecified or one of its own interface addresses. */
const isThisHost = (bytes: IpBytes, local: readonly IpBytes[]): boolean => {
  const cls = classifyAddress(bytes);
  const own = effectiveAddress(bytes);
  return cls === 'loopback' || cls === 'unspecified' || local.some((l) => sameAddress(effectiveAddress(l), own));
};

const addressRuleMatches = (rule: EgressRule, bytes: IpBytes): boolean =>
  rule.network !== null &&
  (inNetwork(bytes, rule.network, rule.prefix) || inNetwork(effectiveAddress(bytes), rule.network, rule.prefix));

const platformMatches = (
  rule: EgressRule,
  name: string | null,
  bytes: IpBytes,
  port: number | null,
  local: readonly IpBytes[],
): boolean => {
  if (!portMatches(rule, port)) return false;
  if (rule.name !== null) return rule.name === name;
  if (addressRuleMatches(rule, bytes)) return true;
  // A service bound to 127.0.0.1 or 0.0.0.0 answers on every address of its host.
  return rule.prefix === rule.network!.length * 8 && isThisHost(rule.network!, local) && isThisHost(bytes, local);
};

const refused = (refusal: EgressRefusal, message: string): EgressVerdict => ({ allowed: false, refusal, message });

const CLASS_WORDS: Record<Exclude<AddressClass, 'public' | 'private'>, string> = {
  loopback: 'a loopback address',
  unspecified: 'an unspecified (this host) address',
  'link-local': 'a link-local address',
  multicast: 'a multicast address',
  reserved: 'a reserved address',
};

/**
 * The verdict on connecting to `address` (an IP literal, as resolved) for the host `host` on `port`
 * (null: no port, e.g. ping). Metadata and platform first (no tenant rule overrides them), then
 * public addresses, then the tenant's rules.
 */
export const addressVerdict = (
  dest: { host: string; address: string; port: number | null },
  policy: EgressPolicy,
): EgressVerdict => {
  const bytes = parseIp(dest.address.replace(/^\[|\]$/g, ''));
  if (!bytes) return refused('invalid', `${dest.address} is not an IP address`);
  const name = parseIp(dest.host.replace(/^\[|\]$/g, '')) ? null : normalName(dest.host);
  const shown = where(name ?? formatIp(bytes), dest.port);
  if ((name !== null && METADATA_NAMES.has(name)) || isMetadataAddress(bytes)) {
    return refused('metadata', `${shown} is a cloud metadata service: steps never reach it`);
  }
  const local = (policy.localAddresses ?? []).map((a) => parseIp(a)).filter((a): a is IpBytes => a !== null);
  const platform = policy.platform.find((r) => platformMatches(r, name, bytes, dest.port, local));
  if (platform)
    return refused(
      'platform',
      `${shown}${name ? ` (${formatIp(bytes)})` : ''} is a service of the platform itself (${platform.text}): steps never reach it`,
    );
  const cls = classifyAddress(bytes);
  // Private networks are where the fleet lives: steps reach them (the platform's services excepted, above).
  if (cls === 'public' || cls === 'private') return { allowed: true, why: cls };
  // Loopback opens only by port: a name allowed whole must not open every local service. A
  // destination without a port (ping's ICMP) reaches no service, so a rule without one may allow it.
  const thisHost = cls === 'loopback' || cls === 'unspecified';
  const rule = policy.allow.find(
    (r) =>
      (!thisHost || r.port !== null || dest.port === null) &&
      portMatches(r, dest.port) &&
      (r.name !== null ? r.name === name : addressRuleMatches(r, bytes)),
  );
  if (rule) return { allowed: true, why: 'allowed', rule: rule.text };
  return refused(
    cls,
    `${shown}${name ? ` (${formatIp(bytes)})` : ''} is ${CLASS_WORDS[cls]}: a tenant admin can allow it as a destination (PUT /api/tenant/egress)`,
  );
};

/** A host as a program or URL names it: an address in any accepted form, or a name. */
const hostAddress = (host: string): IpBytes | 'invalid' | null => {
  const bare = host.replace(/^\[|\]$/g, '');
  const v6 = parseIpv6(bare);
  if (v6) return v6;
  const trimmed = bare.replace(/\.$/, '');
  // A last label that is a number makes the whole host an IPv4 address to every resolver (or nothing).
  if (/(?:^|\.)(?:0x[0-9a-f]*|[0-9]+)$/i.test(trimmed)) return parseIpv4Loose(trimmed) ?? 'invalid';
  return null;
};

const LOCALHOST: readonly string[] = ['127.0.0.1', '::1'];

/**
 * The verdict on a host before any DNS (planning time, or a diagnostic's argument): addresses in
 * any form are judged; names are judged by the name rules, and otherwise left to connect time.
 */
export const hostVerdict = (host: string, port: number | null, policy: EgressPolicy): EgressVerdict => {
  const address = hostAddress(host);
  if (address === 'invalid') return refused('invalid', `${host} is neither a host name nor an IP address`);
  if (address) return addressVerdict({ host: formatIp(address), address: formatIp(address), port }, policy);
  const name = normalName(host);
  if (!HOST_NAME.test(name)) return refused('invalid', `${host} is not a host name`);
  if (METADATA_NAMES.has(name))
    return refused('metadata', `${where(name, port)} is a cloud metadata service: steps never reach it`);
  const platform = policy.platform.find((r) => r.name === name && portMatches(r, port));
  if (platform)
    return refused(
      'platform',
      `${where(name, port)} is a service of the platform itself (${platform.text}): steps never reach it`,
    );
  if (name === 'localhost' || name.endsWith('.localhost')) {
    // Every resolver answers these with loopback (RFC 6761): judge both addresses now.
    for (const a of LOCALHOST) {
      const verdict = addressVerdict({ host: name, address: a, port }, policy);
      if (!verdict.allowed) return verdict;
    }
    return { allowed: true, why: 'allowed' };
  }
  return { allowed: true, why: 'resolve' };
};

/** The port a URL reaches: its own, or its scheme's. */
export const urlPort = (url: URL): number => (url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80);

/**
 * The verdict on a URL before any DNS, for the plan validator: http and https only, then
 * {@link hostVerdict} on its host and port. The executor judges again at connect time.
 */
export const urlVerdict = (url: string, policy: EgressPolicy = { allow: [], platform: [] }): EgressVerdict => {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return refused('invalid', 'not an absolute URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    return refused('scheme', `${parsed.protocol.slice(0, -1)}: URLs are refused: http and https only`);
  return hostVerdict(parsed.hostname, urlPort(parsed), policy);
};

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** One destination a tenant allows (loopback, link-local or private use), with why. */
export const EgressAllowEntry = z.strictObject({
  destination: z
    .string()
    .min(1)
    .max(300)
    .superRefine((value, ctx) => {
      const parsed = parseEgressRule(value);
      if ('error' in parsed) ctx.addIssue({ code: 'custom', message: parsed.error });
    }),
  note: z
    .string()
    .max(200)
    .refine((v) => !/[\u0000-\u001f\u007f]/.test(v) && !LONE_SURROGATE.test(v), {
      message: 'must be plain text (no control characters)',
    })
    .optional(),
});
export type EgressAllowEntry = z.infer<typeof EgressAllowEntry>;

/** `PUT /api/tenant/egress`: the tenant's whole allow list, replacing the one before. */
export const EgressAllowList = z
  .strictObject({ allow: z.array(EgressAllowEntry).max(200) })
  .superRefine((body, ctx) => {
    const seen = new Set<string>();
    body.allow.forEach((entry, i) => {
      const key = entry.destination.trim().toLowerCase();
      if (seen.has(key))
        ctx.addIssue({ code: 'custom', path: ['allow', i, 'destination'], message: 'is listed twice' });
      seen.add(key);
    });
  });
export type EgressAllowList = z.infer<typeof EgressAllowList>;

/** `GET /api/tenant/egress` (and the answer to PUT): declared in api/platform.ts. */
export type { EgressAllowListView } from './api/platform.js';
