/*
 * Answers of the identity and audit routes, as the API writes them and the web app and clients read
 * them: declared once, as schemas, in api/identity.ts.
 */
export type { AuditEntry, TokenView } from './api/identity.js';
