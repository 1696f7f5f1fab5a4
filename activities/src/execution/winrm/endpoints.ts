import type pg from 'pg';
import { findTargetService } from '../target-service.js';
import type { WinrmEndpoint } from './transport.js';

const TRANSPORTS = new Set(['ntlm', 'basic', 'kerberos', 'certificate']);

/** Looks up a job's target as a WinRM endpoint, refusing another tenant's targets and targets without WinRM. */
export const findWinrmEndpoint = async (pool: pg.Pool, jobId: string, targetId: string): Promise<WinrmEndpoint> => {
  const row = await findTargetService(pool, jobId, targetId, 'winrm');
  const o = row.options;
  const scheme = o.scheme === 'https' ? 'https' : 'http';
  return {
    targetId,
    targetName: row.targetName,
    host: row.address,
    port: row.port ?? (scheme === 'https' ? 5986 : 5985),
    scheme,
    transport:
      typeof o.transport === 'string' && TRANSPORTS.has(o.transport)
        ? (o.transport as WinrmEndpoint['transport'])
        : 'ntlm',
    verifyCertificate: o.verifyCertificate !== false,
    ...(typeof o.caCertificate === 'string' && { caCertificate: o.caCertificate }),
    username: row.username,
    credentialId: row.credentialId,
    credentialFingerprint: row.credentialFingerprint,
  };
};
