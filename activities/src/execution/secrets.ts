import type pg from 'pg';
import { ErrorType, type CredentialSecret } from '@opsc/contracts';
import { RemoteFailure } from './remote-failure.js';
import { openCredential } from './vault/store.js';
import { VaultError, type Keyring } from './vault/keyring.js';

/** Opens a credential's secret for immediate use; nothing keeps it. */
export type SecretOpener = (credentialId: string) => Promise<CredentialSecret>;

export const createSecretOpener =
  (db: pg.Pool, keyring: Keyring): SecretOpener =>
  async (credentialId) => {
    try {
      return (await openCredential(db, keyring, credentialId)).secret;
    } catch (err) {
      // A secret this executor cannot open will not open on a retry either.
      if (err instanceof VaultError) throw new RemoteFailure(ErrorType.AuthFailed, `credential ${credentialId} cannot be opened: ${err.message}`);
      throw err;
    }
  };
