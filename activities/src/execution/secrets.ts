import type pg from 'pg';
import { ErrorType, type CredentialSecret } from '@opsc/contracts';
import { RemoteFailure } from './remote-failure.js';
import { openSealedCredential, readSealedCredential, type SealedCredential } from './vault/store.js';
import { VaultError, type Keyring } from './vault/keyring.js';

/** Opens a credential's secret for immediate use; nothing keeps it. */
export type SecretOpener = (credentialId: string) => Promise<CredentialSecret>;

/** How the sealed secret is read: straight from PostgreSQL, or through a cache of ciphertexts (see `createLookupCache`). */
export type SealedReader = (credentialId: string, read: () => Promise<SealedCredential>) => Promise<SealedCredential>;

export const createSecretOpener =
  (db: pg.Pool, keyring: Keyring, through: SealedReader = (_id, read) => read()): SecretOpener =>
  async (credentialId) => {
    try {
      // Only the ciphertext may be remembered; the secret is opened for each use.
      const sealed = await through(credentialId, () => readSealedCredential(db, credentialId));
      return openSealedCredential(keyring, credentialId, sealed).secret;
    } catch (err) {
      // A secret this executor cannot open will not open on a retry either.
      if (err instanceof VaultError)
        throw new RemoteFailure(ErrorType.AuthFailed, `credential ${credentialId} cannot be opened: ${err.message}`);
      throw err;
    }
  };
