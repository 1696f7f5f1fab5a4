import type pg from 'pg';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType, HostKeyPolicy } from '@opsc/contracts';

/** Everything the executor needs to reach a target over SSH, except the secret itself. */
export interface SshEndpoint {
  targetId: string;
  targetName: string;
  host: string;
  port: number;
  username: string;
  credentialId: string;
  /** Changes when the secret changes, so pooled connections made with the old one are not reused. */
  credentialFingerprint: string;
  hostKeyPolicy: HostKeyPolicy;
}

/** Looks up a job's target, refusing targets of another tenant than the job's and targets without SSH. */
export const findSshEndpoint = async (
  pool: pg.Pool,
  jobId: string,
  targetId: string,
  defaultPolicy: HostKeyPolicy,
): Promise<SshEndpoint> => {
  const { rows } = await pool.query<{
    name: string;
    address: string;
    port: number | null;
    options: Record<string, unknown>;
    credential_id: string | null;
    username: string | null;
    fingerprint: string | null;
    has_ssh: boolean;
  }>(
    `SELECT t.name, t.address, s.port, s.options, s.credential_id, c.username, c.fingerprint, s.target_id IS NOT NULL AS has_ssh
       FROM jobs j
       JOIN targets t ON t.tenant_id = j.tenant_id AND t.id::text = $2
       LEFT JOIN target_services s ON s.target_id = t.id AND s.protocol = 'ssh'
       LEFT JOIN credentials c ON c.id = s.credential_id
      WHERE j.id = $1`,
    [jobId, targetId],
  );
  const row = rows[0];
  if (!row) throw ApplicationFailure.nonRetryable(`target ${targetId} is not in the inventory of job ${jobId}'s tenant`, ErrorType.NotFound);
  if (!row.has_ssh) throw ApplicationFailure.nonRetryable(`target ${row.name} has no ssh service in the inventory`, ErrorType.ValidationFailed);
  if (!row.credential_id || !row.fingerprint) {
    throw ApplicationFailure.nonRetryable(`the ssh service of target ${row.name} has no credential`, ErrorType.ValidationFailed);
  }
  if (!row.username) throw ApplicationFailure.nonRetryable(`the credential of target ${row.name} has no username`, ErrorType.ValidationFailed);
  const policy = HostKeyPolicy.safeParse(row.options.hostKeyPolicy);
  return {
    targetId,
    targetName: row.name,
    host: row.address,
    port: row.port ?? 22,
    username: row.username,
    credentialId: row.credential_id,
    credentialFingerprint: row.fingerprint,
    hostKeyPolicy: policy.success ? policy.data : defaultPolicy,
  };
};
