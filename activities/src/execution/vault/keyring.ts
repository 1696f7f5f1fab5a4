import {
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import {
  deriveWrapKey,
  masterKeyId,
  rawPublicKey,
  wrapDataKey,
  type SealedSecret,
  type VaultPublicKey,
} from '@opsc/contracts/sealing';

/** Raised for any secret that cannot be opened; says which key, never anything about the value. */
export class VaultError extends Error {}

export interface MasterKey extends VaultPublicKey {
  privateKey: KeyObject;
}

/** The executor's master keys: the first seals, all of them open (so rotation needs no downtime). */
export interface Keyring {
  current: MasterKey;
  byId: ReadonlyMap<string, MasterKey>;
}

const TAG_BYTES = 16;

/** A master key from its PKCS#8 PEM (what `generateMasterKey` writes). */
export const masterKeyFromPem = (pem: string): MasterKey => {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    throw new VaultError('the vault master key is not a PKCS#8 PEM private key');
  }
  if (privateKey.asymmetricKeyType !== 'x25519') throw new VaultError('the vault master key must be an X25519 key');
  const publicKey = createPublicKey(privateKey);
  return { keyId: masterKeyId(publicKey), publicKey, privateKey };
};

export const generateMasterKey = (): { pem: string; key: MasterKey } => {
  const { privateKey } = generateKeyPairSync('x25519');
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  return { pem, key: masterKeyFromPem(pem) };
};

/** Builds a keyring from PEM keys, newest first. */
export const createKeyring = (pems: readonly string[]): Keyring => {
  const keys = pems.map(masterKeyFromPem);
  const current = keys[0];
  if (!current) throw new VaultError('no vault master key configured');
  return { current, byId: new Map(keys.map((k) => [k.keyId, k])) };
};

const gcmDecrypt = (key: Buffer, iv: Buffer, sealed: Buffer, aad: string): Buffer => {
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]);
};

const unwrapDataKey = (sealed: SealedSecret, keyring: Keyring, context: string): Buffer => {
  const key = keyring.byId.get(sealed.keyId);
  if (!key) throw new VaultError(`sealed for master key ${sealed.keyId}, which this executor does not hold`);
  const epk = Buffer.from(sealed.epk, 'base64');
  try {
    const shared = diffieHellman({
      privateKey: key.privateKey,
      publicKey: createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: epk.toString('base64url') }, format: 'jwk' }),
    });
    const wrapKey = deriveWrapKey(shared, epk, rawPublicKey(key.publicKey));
    return gcmDecrypt(wrapKey, Buffer.from(sealed.wrapIv, 'base64'), Buffer.from(sealed.wrappedKey, 'base64'), context);
  } catch {
    throw new VaultError(
      `cannot unwrap the data key with master key ${sealed.keyId} (wrong key, wrong credential or tampered)`,
    );
  }
};

/** Opens a sealed secret. Only the executor calls this, at the moment it needs the value. */
export const openSecret = (sealed: SealedSecret, keyring: Keyring, context: string): string => {
  const dataKey = unwrapDataKey(sealed, keyring, context);
  try {
    return gcmDecrypt(
      dataKey,
      Buffer.from(sealed.iv, 'base64'),
      Buffer.from(sealed.ciphertext, 'base64'),
      context,
    ).toString('utf8');
  } catch {
    throw new VaultError(
      `cannot decrypt the secret sealed with master key ${sealed.keyId} (tampered or wrong credential)`,
    );
  } finally {
    dataKey.fill(0);
  }
};

/** Re-wraps a secret's data key for another master key; the ciphertext itself is untouched. */
export const rewrapSecret = (
  sealed: SealedSecret,
  keyring: Keyring,
  to: VaultPublicKey,
  context: string,
): SealedSecret => {
  const dataKey = unwrapDataKey(sealed, keyring, context);
  try {
    return { ...sealed, ...wrapDataKey(dataKey, to, context) };
  } finally {
    dataKey.fill(0);
  }
};
