import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type pg from 'pg';
import { FINAL_JOB_STATUSES } from '@opsc/contracts';
import type { ArtifactView } from '@opsc/contracts/api';
import type { Spooled } from './spool-upload.js';

/** Bytes per stored chunk (the table's CHECK allows up to 1 MiB): neither side holds more at once. */
export const ARTIFACT_CHUNK_BYTES = 1024 * 1024;
/** Chunks read per query when a download or an executor streams the content. */
const CHUNKS_PER_READ = 8;

interface ArtifactRow {
  id: string;
  name: string;
  sha256: string;
  size_bytes: string;
  uploaded_by: string;
  created_at: Date;
  newest: boolean;
}

const COLUMNS = `a.id, a.name, a.sha256, a.size_bytes, a.uploaded_by, a.created_at,
  NOT EXISTS (SELECT 1 FROM artifacts b WHERE b.tenant_id = a.tenant_id AND b.name = a.name
                AND (b.created_at, b.id) > (a.created_at, a.id)) AS newest`;

const viewOf = (r: ArtifactRow): ArtifactView => ({
  id: r.id,
  name: r.name,
  sha256: r.sha256,
  sizeBytes: Number(r.size_bytes),
  uploadedBy: r.uploaded_by,
  createdAt: r.created_at.toISOString(),
  newest: r.newest,
});

export interface Upload {
  tenantId: string;
  name: string;
  uploadedBy: string;
  /** The tenant's stored versions together may take no more (`ARTIFACT_TENANT_MAX_BYTES`). */
  tenantMaxBytes?: number;
}

/** An upload past its tenant's total: nothing of it is kept. */
export class ArtifactQuotaExceeded extends Error {
  constructor(
    readonly quotaBytes: number,
    readonly usedBytes: number,
    readonly sizeBytes: number,
  ) {
    super(
      `the tenant's artifacts use ${usedBytes} of their quota of ${quotaBytes} bytes (ARTIFACT_TENANT_MAX_BYTES): an upload of ${sizeBytes} bytes does not fit; delete old versions first`,
    );
  }
}

/** The bytes a tenant's stored versions take. */
export const tenantArtifactBytes = async (db: pg.Pool | pg.PoolClient, tenantId: string): Promise<number> => {
  const { rows } = await db.query<{ used: string }>(
    'SELECT coalesce(sum(size_bytes), 0)::text AS used FROM artifacts WHERE tenant_id = $1',
    [tenantId],
  );
  return Number(rows[0]?.used ?? 0);
};

/**
 * Inside the upload's transaction, before its version is recorded: the tenant's stored versions and
 * this one must fit its total. A tenant's uploads take turns here (a transaction lock), so two at
 * once cannot both fit into the last free bytes.
 */
const withinTenantQuota = async (client: pg.PoolClient, tenantId: string, sizeBytes: number, quotaBytes: number) => {
  await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('artifact-quota:' || $1::text, 0))`, [tenantId]);
  const used = await tenantArtifactBytes(client, tenantId);
  if (used + sizeBytes > quotaBytes) throw new ArtifactQuotaExceeded(quotaBytes, used, sizeBytes);
};

/**
 * Stores an upload already spooled to a private file (spool-upload.ts: the body is read, hashed
 * and counted before a database connection is taken, so a slow sender holds none): its chunks of
 * 1 MiB and the version's row in one transaction. The same bytes under the same name are the
 * version already there (`created: false`); anything else is a new, immutable version.
 */
export const storeArtifact = async (
  pool: pg.Pool,
  upload: Upload,
  spooled: Spooled,
): Promise<{ artifact: ArtifactView; created: boolean }> => {
  const same = await pool.query<ArtifactRow>(
    `SELECT ${COLUMNS} FROM artifacts a WHERE a.tenant_id = $1 AND a.name = $2 AND a.sha256 = $3`,
    [upload.tenantId, upload.name, spooled.sha256],
  );
  if (same.rows[0]) return { artifact: viewOf(same.rows[0]), created: false };
  const id = randomUUID();
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    if (upload.tenantMaxBytes !== undefined)
      await withinTenantQuota(client, upload.tenantId, spooled.size, upload.tenantMaxBytes);
    let seq = 0;
    for await (const data of createReadStream(spooled.file, { highWaterMark: ARTIFACT_CHUNK_BYTES })) {
      await client.query('INSERT INTO artifact_chunks (artifact_id, seq, data) VALUES ($1, $2, $3)', [id, seq, data]);
      seq += 1;
    }
    const { rows } = await client.query<ArtifactRow>(
      `WITH a AS (INSERT INTO artifacts (id, tenant_id, name, sha256, size_bytes, uploaded_by)
                  VALUES ($1, $2, $3, $4, $5, $6) RETURNING *)
       SELECT a.id, a.name, a.sha256, a.size_bytes, a.uploaded_by, a.created_at, true AS newest FROM a`,
      [id, upload.tenantId, upload.name, spooled.sha256, spooled.size, upload.uploadedBy],
    );
    await client.query('COMMIT');
    return { artifact: viewOf(rows[0] as ArtifactRow), created: true };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
};

export const listArtifacts = async (pool: pg.Pool, tenantId: string): Promise<ArtifactView[]> => {
  const { rows } = await pool.query<ArtifactRow>(
    `SELECT ${COLUMNS} FROM artifacts a WHERE a.tenant_id = $1 ORDER BY a.name, a.created_at DESC, a.id DESC`,
    [tenantId],
  );
  return rows.map(viewOf);
};

/** One version of the tenant's (another tenant's is as missing as one that never was). */
export const getArtifact = async (pool: pg.Pool, tenantId: string, id: string): Promise<ArtifactView | null> => {
  const { rows } = await pool.query<ArtifactRow>(
    `SELECT ${COLUMNS} FROM artifacts a WHERE a.tenant_id = $1 AND a.id = $2`,
    [tenantId, id],
  );
  return rows[0] ? viewOf(rows[0]) : null;
};

/**
 * The version a plan pins: the one with that SHA-256 under the name, or, with none given, the
 * newest upload under it. Null when there is none.
 */
export const findArtifactVersion = async (
  pool: pg.Pool,
  tenantId: string,
  name: string,
  sha256?: string,
): Promise<{ sha256: string; sizeBytes: number } | null> => {
  const { rows } = await pool.query<{ sha256: string; size_bytes: string }>(
    `SELECT sha256, size_bytes FROM artifacts WHERE tenant_id = $1 AND name = $2 AND ($3::text IS NULL OR sha256 = $3)
      ORDER BY created_at DESC, id DESC LIMIT 1`,
    [tenantId, name, sha256 ?? null],
  );
  return rows[0] ? { sha256: rows[0].sha256, sizeBytes: Number(rows[0].size_bytes) } : null;
};

/** The content in order, a few chunks per query: memory stays at a few MiB whatever the size. */
export async function* artifactContent(pool: pg.Pool, id: string): AsyncGenerator<Buffer> {
  for (let from = 0; ; from += CHUNKS_PER_READ) {
    const { rows } = await pool.query<{ data: Buffer }>(
      'SELECT data FROM artifact_chunks WHERE artifact_id = $1 AND seq >= $2 AND seq < $3 ORDER BY seq',
      [id, from, from + CHUNKS_PER_READ],
    );
    for (const row of rows) yield row.data;
    if (rows.length < CHUNKS_PER_READ) return;
  }
}

const UNFINISHED = `status <> ALL($3::text[])`;

/** Unfinished jobs of the tenant whose plan copies this version (by name and pinned SHA-256). */
export const jobsCopying = async (pool: pg.Pool, tenantId: string, artifact: ArtifactView): Promise<string[]> => {
  const { rows } = await pool.query<{ id: string }>(
    `SELECT j.id FROM jobs j
      WHERE j.tenant_id = $1 AND ${UNFINISHED}
        AND EXISTS (SELECT 1 FROM jsonb_array_elements(j.plan->'steps') s
                     WHERE s->'action'->'operation'->>'op' = 'file-copy'
                       AND s->'action'->'operation'->>'source' = $2
                       AND s->'action'->'operation'->>'sha256' = $4)
      ORDER BY j.created_at LIMIT 10`,
    [tenantId, artifact.name, [...FINAL_JOB_STATUSES], artifact.sha256],
  );
  return rows.map((r) => r.id);
};

/** Deletes a version and its content (the chunks go with the row). */
export const deleteArtifact = async (pool: pg.Pool, tenantId: string, id: string): Promise<boolean> => {
  const { rowCount } = await pool.query('DELETE FROM artifacts WHERE tenant_id = $1 AND id = $2', [tenantId, id]);
  return (rowCount ?? 0) > 0;
};
