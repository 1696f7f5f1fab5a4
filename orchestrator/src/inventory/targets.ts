import {
  HostKeyPolicy,
  effectivePool,
  type FieldIssue,
  type ResolvedTarget,
  type TargetInput,
  type TargetService,
} from '@opsc/contracts';
import { InvalidInput } from '../errors.js';
import type { Db } from '../db.js';

interface ServiceRow {
  protocol: TargetService['protocol'];
  port: number | null;
  options: Record<string, unknown>;
  credential_id: string | null;
  credential_name: string | null;
}

const toRow = (service: TargetService) => {
  switch (service.protocol) {
    case 'ssh':
      return { port: service.port, options: service.hostKeyPolicy ? { hostKeyPolicy: service.hostKeyPolicy } : {} };
    case 'winrm':
      return {
        port: service.port ?? (service.scheme === 'https' ? 5986 : 5985),
        options: {
          scheme: service.scheme,
          transport: service.transport,
          verifyCertificate: service.verifyCertificate,
          ...(service.caCertificate && { caCertificate: service.caCertificate }),
        },
      };
    case 'http':
      return { port: null, options: { baseUrl: service.baseUrl } };
    case 'postgresql':
      return { port: service.port, options: { database: service.database, tls: service.tls } };
  }
};

/** The stored form back into the API form; `credential` is the name, `credentialId` the reference planning passes on. */
export const serviceFromRow = (row: ServiceRow): TargetService & { credentialId: string | null } => {
  const credential = row.credential_name ? { credential: row.credential_name } : {};
  const base = { ...credential, credentialId: row.credential_id };
  if (row.protocol === 'ssh') {
    const parsed = HostKeyPolicy.safeParse(row.options.hostKeyPolicy);
    const policy = parsed.success ? { hostKeyPolicy: parsed.data } : {};
    return { protocol: 'ssh', port: row.port ?? 22, ...policy, ...base };
  }
  if (row.protocol === 'winrm') {
    const o = row.options as {
      scheme: 'http' | 'https';
      transport: 'ntlm' | 'basic' | 'kerberos' | 'certificate';
      verifyCertificate: boolean;
      caCertificate?: string;
    };
    return {
      protocol: 'winrm',
      port: row.port ?? 5985,
      scheme: o.scheme,
      transport: o.transport,
      verifyCertificate: o.verifyCertificate,
      ...(o.caCertificate && { caCertificate: o.caCertificate }),
      ...base,
    };
  }
  if (row.protocol === 'postgresql') {
    const o = row.options as { database: string; tls: 'disable' | 'require' | 'verify-full' };
    return { protocol: 'postgresql', port: row.port ?? 5432, database: o.database, tls: o.tls, ...base };
  }
  return { protocol: 'http', baseUrl: String(row.options.baseUrl), ...base };
};

/** Credential ids for the services' credential names; unknown names are invalid input naming the field. */
const credentialIds = async (
  db: Db,
  tenantId: string,
  services: TargetService[],
  pathPrefix: (string | number)[],
): Promise<(string | null)[]> => {
  const names = [...new Set(services.map((s) => s.credential).filter((n): n is string => Boolean(n)))];
  const { rows } = names.length
    ? await db.query<{ id: string; name: string }>(
        'SELECT id, name FROM credentials WHERE tenant_id = $1 AND name = ANY($2)',
        [tenantId, names],
      )
    : { rows: [] };
  const byName = new Map(rows.map((r) => [r.name, r.id]));
  const issues: FieldIssue[] = [];
  const ids = services.map((s, i) => {
    if (!s.credential) return null;
    const id = byName.get(s.credential);
    if (!id)
      issues.push({
        path: [...pathPrefix, 'services', i, 'credential'].join('.'),
        message: `no credential named "${s.credential}"`,
      });
    return id ?? null;
  });
  if (issues.length) throw new InvalidInput('unknown credential', issues);
  return ids;
};

/** Creates or replaces a target (by name) with its services. Call inside a transaction. */
export const upsertTarget = async (
  db: Db,
  tenantId: string,
  target: TargetInput,
  pathPrefix: (string | number)[] = [],
): Promise<{ id: string; created: boolean }> => {
  const ids = await credentialIds(db, tenantId, target.services, pathPrefix);
  const { rows } = await db.query<{ id: string; created: boolean }>(
    `INSERT INTO targets (tenant_id, name, address, os, tags, pool) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (tenant_id, name) DO UPDATE SET address = EXCLUDED.address, os = EXCLUDED.os, tags = EXCLUDED.tags,
       pool = EXCLUDED.pool, updated_at = now()
     RETURNING id, (xmax = 0) AS created`,
    [tenantId, target.name, target.address, target.os, target.tags, target.pool ?? null],
  );
  const { id, created } = rows[0]!;
  await db.query('DELETE FROM target_services WHERE target_id = $1', [id]);
  for (const [i, service] of target.services.entries()) {
    const { port, options } = toRow(service);
    await db.query(
      'INSERT INTO target_services (target_id, protocol, port, options, credential_id) VALUES ($1, $2, $3, $4, $5)',
      [id, service.protocol, port, JSON.stringify(options), ids[i]],
    );
  }
  return { id, created };
};

const SELECT_TARGETS = `
  SELECT t.id, t.name, t.address, t.os, t.tags, t.pool,
         coalesce(json_agg(json_build_object('protocol', s.protocol, 'port', s.port, 'options', s.options,
                  'credential_id', s.credential_id, 'credential_name', c.name) ORDER BY s.protocol)
                  FILTER (WHERE s.id IS NOT NULL), '[]') AS services
  FROM targets t
  LEFT JOIN target_services s ON s.target_id = t.id
  LEFT JOIN credentials c ON c.id = s.credential_id`;

interface TargetRow {
  id: string;
  name: string;
  address: string;
  os: 'linux' | 'windows';
  tags: string[];
  pool: string | null;
  services: ServiceRow[];
}

const toTarget = ({ pool, ...row }: TargetRow, groupPools: readonly string[]): ResolvedTarget => {
  const { pool: executorPool, conflict } = effectivePool(pool, groupPools);
  return {
    ...row,
    services: row.services.map(serviceFromRow),
    ...(pool && { pool }),
    executorPool,
    ...(conflict && { poolConflict: conflict }),
  };
};

/**
 * Per target, the pools its groups name, nearest first: from each group it is in, up through the
 * parents until a group names a pool (a child group's pool overrides its parent's). Different pools
 * from unrelated groups are a conflict the target must settle with its own.
 */
const groupPools = async (db: Db, targetIds: string[]): Promise<Map<string, string[]>> => {
  if (!targetIds.length) return new Map();
  const { rows } = await db.query<{ target_id: string; pools: string[] }>(
    `WITH RECURSIVE up(group_id, target_id, pool) AS (
       SELECT g.id, gt.target_id, g.pool FROM group_targets gt JOIN target_groups g ON g.id = gt.group_id
        WHERE gt.target_id = ANY($1::uuid[])
       UNION
       SELECT p.id, up.target_id, p.pool FROM up
         JOIN group_children c ON c.child_id = up.group_id JOIN target_groups p ON p.id = c.parent_id
        WHERE up.pool IS NULL
     )
     SELECT target_id, array_agg(DISTINCT pool) AS pools FROM up WHERE pool IS NOT NULL GROUP BY target_id`,
    [targetIds],
  );
  return new Map(rows.map((r) => [r.target_id, r.pools]));
};

export const findTargets = async (
  db: Db,
  tenantId: string,
  where: { ids?: string[]; names?: string[] } = {},
): Promise<ResolvedTarget[]> => {
  const { rows } = await db.query<TargetRow>(
    `${SELECT_TARGETS}
     WHERE t.tenant_id = $1 AND ($2::uuid[] IS NULL OR t.id = ANY($2)) AND ($3::text[] IS NULL OR t.name = ANY($3))
     GROUP BY t.id ORDER BY t.name`,
    [tenantId, where.ids ?? null, where.names ?? null],
  );
  const inherited = await groupPools(
    db,
    rows.filter((r) => !r.pool).map((r) => r.id),
  );
  return rows.map((row) => toTarget(row, inherited.get(row.id) ?? []));
};
