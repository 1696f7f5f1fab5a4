import { z } from 'zod';
import { InventoryName } from './inventory.js';

const Pem = (what: string) =>
  z
    .string()
    .max(65_536)
    .regex(/^-----BEGIN [A-Z0-9 ]+-----\r?\n[\s\S]+\r?\n-----END [A-Z0-9 ]+-----\s*$/, {
      message: `must be a PEM ${what}`,
    });

/** The secret part of each credential kind. It is sealed on arrival and never returned. */
export const CredentialSecret = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('password'), password: z.string().min(1).max(4096) }),
  z.strictObject({
    kind: z.literal('ssh-key'),
    privateKey: Pem('or OpenSSH private key'),
    passphrase: z.string().max(4096).optional(),
    /** The user's password for sudo, when sudo asks for one. */
    sudoPassword: z.string().min(1).max(4096).optional(),
  }),
  z.strictObject({ kind: z.literal('winrm'), password: z.string().min(1).max(4096) }),
  z.strictObject({ kind: z.literal('api-token'), token: z.string().min(1).max(16_384) }),
  z.strictObject({
    kind: z.literal('client-certificate'),
    certificate: Pem('certificate'),
    privateKey: Pem('private key'),
  }),
]);
export type CredentialSecret = z.infer<typeof CredentialSecret>;
export type CredentialKind = CredentialSecret['kind'];

export const CredentialInput = z.strictObject({
  name: InventoryName,
  username: z.string().min(1).max(256).optional(),
  /** Non-secret settings: WinRM transport, the header an API token goes in, ... */
  metadata: z
    .strictObject({
      transport: z.enum(['ntlm', 'basic', 'kerberos', 'certificate']).optional(),
      header: z
        .string()
        .regex(/^[A-Za-z0-9-]{1,100}$/)
        .optional(),
    })
    .default({}),
  secret: CredentialSecret,
});
export type CredentialInput = z.infer<typeof CredentialInput>;

/** What the API shows of a credential (metadata and a fingerprint, never the secret): declared in api/credentials.ts. */
export type { CredentialView } from './api/credentials.js';

/** Associated data binding a sealed secret to its credential (see sealing.ts). */
export const credentialContext = (tenantId: string, credentialId: string): string =>
  `opsc-credential/${tenantId}/${credentialId}`;
