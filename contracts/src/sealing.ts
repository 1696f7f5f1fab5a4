/**
 * The vault's envelope format and its sealing half (`@opsc/contracts/sealing`).
 *
 * Each secret is encrypted with AES-256-GCM under a fresh random data key. The data key is wrapped
 * for the vault's master key pair: an ephemeral X25519 key agreement with the master public key,
 * HKDF-SHA256, then AES-256-GCM. Anyone with the public key can seal (the API, when an operator
 * stores a credential); only the holder of the private key, the executor, can open. Both layers
 * bind `context` (tenant and credential id) as associated data, so a sealed value copied onto
 * another credential does not open.
 */
import {
  createCipheriv,
  createHash,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { z } from 'zod';

const b64 = z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/);

export const SealedSecret = z.object({
  v: z.literal(1),
  /** Which master key wrapped the data key (see `masterKeyId`). */
  keyId: z.string().regex(/^[0-9a-f]{16}$/),
  /** Ephemeral X25519 public key, raw. */
  epk: b64,
  wrapIv: b64,
  /** The data key, AES-256-GCM-encrypted, with its tag appended. */
  wrappedKey: b64,
  iv: b64,
  /** The secret, AES-256-GCM-encrypted under the data key, with its tag appended. */
  ciphertext: b64,
});
export type SealedSecret = z.infer<typeof SealedSecret>;

/** The public half of a vault master key, as published for sealing. */
export interface VaultPublicKey {
  keyId: string;
  publicKey: KeyObject;
}

const HKDF_INFO = Buffer.from('opsconductor vault v1 data-key wrap');
const TAG_BYTES = 16;

/** Raw 32-byte form of an X25519 public key. */
export const rawPublicKey = (key: KeyObject): Buffer => Buffer.from(key.export({ format: 'jwk' }).x ?? '', 'base64url');

/** A short stable id for a master key: the first 8 bytes of SHA-256 of its raw public key, hex. */
export const masterKeyId = (publicKey: KeyObject): string =>
  createHash('sha256').update(rawPublicKey(publicKey)).digest('hex').slice(0, 16);

export const publicKeyFromRaw = (raw: Buffer): KeyObject =>
  createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: raw.toString('base64url') }, format: 'jwk' });

/** The wrap key for one data key: HKDF over the X25519 shared secret, salted with both public keys. */
export const deriveWrapKey = (shared: Buffer, epk: Buffer, recipient: Buffer): Buffer =>
  Buffer.from(hkdfSync('sha256', shared, Buffer.concat([epk, recipient]), HKDF_INFO, 32));

export const gcmEncrypt = (key: Buffer, plaintext: Buffer, aad: string): { iv: Buffer; sealed: Buffer } => {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad));
  const sealed = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return { iv, sealed };
};

/** Wraps a data key for a master public key. Used when sealing and when rotating. */
export const wrapDataKey = (
  dataKey: Buffer,
  recipient: VaultPublicKey,
  context: string,
): Pick<SealedSecret, 'keyId' | 'epk' | 'wrapIv' | 'wrappedKey'> => {
  const ephemeral = generateKeyPairSync('x25519');
  const epk = rawPublicKey(ephemeral.publicKey);
  const shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipient.publicKey });
  const wrapKey = deriveWrapKey(shared, epk, rawPublicKey(recipient.publicKey));
  const { iv, sealed } = gcmEncrypt(wrapKey, dataKey, context);
  return {
    keyId: recipient.keyId,
    epk: epk.toString('base64'),
    wrapIv: iv.toString('base64'),
    wrappedKey: sealed.toString('base64'),
  };
};

/** Seals a secret for the vault. The plaintext is not kept; callers should drop their copy too. */
export const sealSecret = (plaintext: string, recipient: VaultPublicKey, context: string): SealedSecret => {
  const dataKey = randomBytes(32);
  const { iv, sealed } = gcmEncrypt(dataKey, Buffer.from(plaintext, 'utf8'), context);
  const wrapped = wrapDataKey(dataKey, recipient, context);
  dataKey.fill(0);
  return { v: 1, ...wrapped, iv: iv.toString('base64'), ciphertext: sealed.toString('base64') };
};

/**
 * A fingerprint safe to show: it tells stored versions apart without revealing anything about the
 * value (a hash of a password would invite offline guessing; this hashes the ciphertext).
 */
export const sealedFingerprint = (sealed: SealedSecret): string =>
  `sealed:${createHash('sha256').update(sealed.ciphertext).digest('hex').slice(0, 16)}`;
