import { z } from 'zod';
import { HostKeyPolicy } from './linux.js';
import { PoolName } from './executor-pools.js';

const HOSTNAME =
  /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** A hostname (RFC 1123 labels, last label not all digits, so `10.0.0.256` is no hostname), an IPv4 or an IPv6 address. */
export const Address = z
  .string()
  .max(253)
  .refine(
    (value) =>
      z.ipv4().safeParse(value).success ||
      z.ipv6().safeParse(value).success ||
      (HOSTNAME.test(value) && !/^\d+$/.test(value.split('.').at(-1) ?? '')),
    { message: 'must be a hostname, an IPv4 or an IPv6 address' },
  );

export const OsFamily = z.enum(['linux', 'windows']);
export type OsFamily = z.infer<typeof OsFamily>;

/** Names of targets, groups and credentials: what operators type, so no surprises in them. */
export const InventoryName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9 ._'()-]{0,199}$/, {
  message: "letters, digits, spaces and . _ ' ( ) -, starting with a letter or digit",
});
export const Tag = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.:-]{0,62}$/, { message: 'lower-case letters, digits and _ . : -' });

const Port = z.number().int().min(1).max(65_535);

/** How a target is reached over one protocol, and with which credential (by name). */
export const TargetService = z.discriminatedUnion('protocol', [
  z.strictObject({
    protocol: z.literal('ssh'),
    port: Port.default(22),
    credential: InventoryName.optional(),
    /** `strict`: only a pinned host key is trusted; `accept-new`: the first key seen is pinned. Executor default when absent. */
    hostKeyPolicy: HostKeyPolicy.optional(),
  }),
  z.strictObject({
    protocol: z.literal('winrm'),
    scheme: z.enum(['http', 'https']).default('http'),
    port: Port.optional(),
    transport: z.enum(['ntlm', 'basic', 'kerberos', 'certificate']).default('ntlm'),
    /** Verify the server certificate on https (turn off only for lab hosts with self-signed certificates). */
    verifyCertificate: z.boolean().default(true),
    /** PEM CA certificate(s) to trust for this target's https certificate instead of the system's (an internal CA, or a self-signed server). */
    caCertificate: z
      .string()
      .max(65_536)
      .regex(/^\s*(-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\s*)+$/, {
        message: 'must be one or more PEM certificates',
      })
      .optional(),
    credential: InventoryName.optional(),
  }),
  z.strictObject({
    protocol: z.literal('http'),
    baseUrl: z.url({ protocol: /^https?$/ }),
    credential: InventoryName.optional(),
  }),
  /** A PostgreSQL server the executor queries (database-query steps); the credential is a password. */
  z.strictObject({
    protocol: z.literal('postgresql'),
    port: Port.default(5432),
    database: z.string().regex(/^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/, { message: 'must be a database name' }),
    /** `require`: TLS, unverified; `verify-full`: TLS with the certificate and host name verified; `disable`: no TLS (lab only). */
    tls: z.enum(['disable', 'require', 'verify-full']).default('require'),
    credential: InventoryName.optional(),
  }),
]);
export type TargetService = z.infer<typeof TargetService>;

export const TargetInput = z
  .strictObject({
    name: InventoryName,
    address: Address,
    os: OsFamily,
    tags: z.array(Tag).max(50).default([]),
    services: z.array(TargetService).max(3).default([]),
    /** The executor pool that runs its actions; absent: its groups' pool, else the default pool. */
    pool: PoolName.optional(),
  })
  .superRefine((target, ctx) => {
    const seen = new Set<string>();
    target.services.forEach((service, index) => {
      if (seen.has(service.protocol))
        ctx.addIssue({
          code: 'custom',
          path: ['services', index, 'protocol'],
          message: `${service.protocol} is listed twice`,
        });
      seen.add(service.protocol);
    });
  });
export type TargetInput = z.infer<typeof TargetInput>;

export const GroupInput = z.strictObject({
  name: InventoryName,
  description: z.string().max(1000).default(''),
  /** Target names that belong directly to the group. */
  targets: z.array(InventoryName).max(10_000).default([]),
  /** Names of child groups. */
  children: z.array(InventoryName).max(1_000).default([]),
  /** The executor pool of its targets and its child groups' targets, unless a target names its own. */
  pool: PoolName.optional(),
});
export type GroupInput = z.infer<typeof GroupInput>;

/** Which targets a step acts on. All given criteria must hold; group and names add up, tags and OS filter. */
export const TargetSelector = z
  .strictObject({
    group: InventoryName.optional(),
    targets: z.array(InventoryName).max(10_000).optional(),
    tags: z.array(Tag).max(20).optional(),
    os: OsFamily.optional(),
  })
  .refine((s) => s.group !== undefined || (s.targets?.length ?? 0) > 0 || (s.tags?.length ?? 0) > 0, {
    message: 'name a group, targets or tags',
  });
export type TargetSelector = z.infer<typeof TargetSelector>;
