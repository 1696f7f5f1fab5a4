import { ROLES, type Role } from '@opsc/contracts/api';

/** What each role may do (the list is the API contract's). Each role includes the ones before it. */
export { ROLES, type Role };

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
