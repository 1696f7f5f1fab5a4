/** What each role may do. Each role includes the ones before it. */
export const ROLES = ['viewer', 'operator', 'approver', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const atLeast = (role: Role, minimum: Role): boolean => ROLES.indexOf(role) >= ROLES.indexOf(minimum);

/** The authenticated caller of a request. */
export interface Principal {
  userId: string;
  username: string;
  tenantId: string;
  role: Role;
  /** How they authenticated, for the audit log. */
  via: 'token' | 'session';
}
