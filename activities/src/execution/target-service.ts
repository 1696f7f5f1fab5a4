import type pg from 'pg';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '@opsc/contracts';

/** A job's target and its service of one protocol, as the executor reads them: no secret. */
export interface TargetServiceRow {
  targetId: string;
  targetName: string;
  address: string;
  port: number | null;
  options: Record<string, unknown>;
  credentialId: string;
  username: string;
  /** Changes when the secret changes, so pooled connections made with the old one are not reused. */
  credentialFingerprint: string;
}

/**
 * Looks up a job's target and its `protocol` service, refusing targets of another tenant than
 * the job's, targets without the service, and services without a credential and username.
 */
export const findTargetService = async (
  pool: pg.Pool,
  jobId: string,
  targetId: string,
  protocol: 'ssh' | 'winrm' | 'postgresql',
): Promise<TargetServiceRow> => {
  const { rows } = await pool.query<{
    name: string;
    address: string;
    port: number | null;
    options: Record<string, unknown> | null;
    credential_id: string | null;
    username: string | null;
    fingerprint: string | null;
    has_service: boolean;
  }>(
    `SELECT t.name, t.address, s.port, s.options, s.credential_id, c.username, c.fingerprint, s.target_id IS NOT NULL AS has_service
       FROM jobs j
       JOIN targets t ON t.tenant_id = j.tenant_id AND t.id::text = $2
       LEFT JOIN target_services s ON s.target_id = t.id AND s.protocol = $3
       LEFT JOIN credentials c ON c.id = s.credential_id
      WHERE j.id = $1`,
    [jobId, targetId, protocol],
  );
  const row = rows[0];
  if (!row)
    throw ApplicationFailure.nonRetryable(
      `target ${targetId} is not in the inventory of job ${jobId}'s tenant`,
      ErrorType.NotFound,
    );
  if (!row.has_service)
    throw ApplicationFailure.nonRetryable(
      `target ${row.name} has no ${protocol} service in the inventory`,
      ErrorType.ValidationFailed,
    );
  if (!row.credential_id || !row.fingerprint) {
    throw ApplicationFailure.nonRetryable(
      `the ${protocol} service of target ${row.name} has no credential`,
      ErrorType.ValidationFailed,
    );
  }
  if (!row.username)
    throw ApplicationFailure.nonRetryable(
      `the credential of target ${row.name} has no username`,
      ErrorType.ValidationFailed,
    );
  return {
    targetId,
    targetName: row.name,
    address: row.address,
    port: row.port,
    options: row.options ?? {},
    credentialId: row.credential_id,
    username: row.username,
    credentialFingerprint: row.fingerprint,
  };
};
