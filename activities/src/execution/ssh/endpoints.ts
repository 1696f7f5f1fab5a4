import type pg from 'pg';
import { HostKeyPolicy } from '@opsc/contracts';
import { findTargetService } from '../target-service.js';

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
  const row = await findTargetService(pool, jobId, targetId, 'ssh');
  const policy = HostKeyPolicy.safeParse(row.options.hostKeyPolicy);
  return {
    targetId,
    targetName: row.targetName,
    host: row.address,
    port: row.port ?? 22,
    username: row.username,
    credentialId: row.credentialId,
    credentialFingerprint: row.credentialFingerprint,
    hostKeyPolicy: policy.success ? policy.data : defaultPolicy,
  };
};
