import pg from 'pg';

/** The PostgreSQL roles the services run as (created NOLOGIN by migration 002). */
export const ServiceRole = { orchestrator: 'opsc_orchestrator', executor: 'opsc_executor' } as const;
export type ServiceRole = (typeof ServiceRole)[keyof typeof ServiceRole];

/**
 * Lets the service roles log in with the given passwords. Run with an administrative connection
 * after migrating; idempotent. Passwords are sent as SCRAM verifiers by PostgreSQL's default.
 */
export const provisionServiceLogins = async (admin: pg.Pool, passwords: Record<ServiceRole, string>): Promise<void> => {
  for (const [role, password] of Object.entries(passwords)) {
    await admin.query(`ALTER ROLE ${pg.escapeIdentifier(role)} LOGIN PASSWORD ${pg.escapeLiteral(password)}`);
  }
};

/** The admin URL with a service role's credentials in place of the admin's. */
export const urlForRole = (adminUrl: string, role: ServiceRole, password: string): string => {
  const url = new URL(adminUrl);
  url.username = role;
  url.password = encodeURIComponent(password);
  return url.toString();
};
