export {
  createKeyring,
  generateMasterKey,
  masterKeyFromPem,
  openSecret,
  rewrapSecret,
  VaultError,
  type Keyring,
  type MasterKey,
} from './keyring.js';
export { openCredential, publishVaultKey, rotateVaultKey } from './store.js';
