import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { migrate, provisionServiceLogins, ServiceRole, urlForRole } from '@opsc/database';

/**
 * Migrates with the administrative URL and gives each service its own role and URL. The role
 * passwords are made once and kept in `passwordFile` (mode 0600) so restarts reuse them.
 */
export const prepareDatabase = async (
  adminUrl: string,
  passwordFile: string,
): Promise<{ orchestrator: string; executor: string; applied: string[] }> => {
  const passwords: Record<ServiceRole, string> = existsSync(passwordFile)
    ? (JSON.parse(readFileSync(passwordFile, 'utf8')) as Record<ServiceRole, string>)
    : {
        [ServiceRole.orchestrator]: randomBytes(18).toString('base64url'),
        [ServiceRole.executor]: randomBytes(18).toString('base64url'),
      };
  writeFileSync(passwordFile, JSON.stringify(passwords), { mode: 0o600 });
  const admin = new pg.Pool({ connectionString: adminUrl, max: 1 });
  try {
    const { applied } = await migrate(admin);
    await provisionServiceLogins(admin, passwords);
    return {
      applied,
      orchestrator: urlForRole(adminUrl, ServiceRole.orchestrator, passwords[ServiceRole.orchestrator]),
      executor: urlForRole(adminUrl, ServiceRole.executor, passwords[ServiceRole.executor]),
    };
  } finally {
    await admin.end();
  }
};
