/*
 * Answers of the identity and audit routes, as the API writes them and the web app and clients read
 * them: one declaration for both sides.
 */

/** A row of `GET /api/tokens` and `GET /api/users/:name/tokens`: never the secret, only its first characters. */
export interface TokenView {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  expiresAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** A row of `GET /api/audit`, newest first. */
export interface AuditEntry {
  /** A bigint, as text. */
  id: string;
  at: string;
  actor: string;
  action: string;
  objectType: string | null;
  objectId: string | null;
  jobId: string | null;
  planHash: string | null;
  sourceIp: string | null;
  details: Record<string, unknown> | null;
}
