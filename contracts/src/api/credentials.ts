import { z } from 'zod';
import { Timestamp } from './common.js';

// Requests take `CredentialInput` (the secret is sealed on arrival and never answered).

/** What the API shows of a credential: metadata and a fingerprint, never the secret. */
export const CredentialView = z.object({
  name: z.string(),
  kind: z.enum(['password', 'ssh-key', 'winrm', 'api-token', 'client-certificate']),
  username: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  fingerprint: z.string(),
  keyId: z.string(),
  updatedAt: Timestamp,
});
export type CredentialView = z.infer<typeof CredentialView>;

export const CredentialList = z.object({ credentials: z.array(CredentialView) });
export type CredentialList = z.infer<typeof CredentialList>;
/** A credential created or replaced. */
export const CredentialAnswer = z.object({ credential: CredentialView });
export type CredentialAnswer = z.infer<typeof CredentialAnswer>;
